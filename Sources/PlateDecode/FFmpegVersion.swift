internal import CFFmpeg

/// Versions of the FFmpeg libraries PlateStream runs against.
public enum FFmpegVersion {
    /// libavcodec's version as `major.minor.micro`.
    public static var avcodec: String {
        let v = avcodec_version()
        return "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)"
    }
}
