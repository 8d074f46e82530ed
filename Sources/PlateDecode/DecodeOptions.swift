public import PlateCore

/// How to open a source and what to hand the consumer.
///
/// The input settings (format, size, frame rate, pixel format, `formatOptions`) are FFmpeg demuxer and
/// protocol options, as `ffmpeg -f FORMAT -video_size WxH -framerate F -pixel_format FMT -i ...` takes
/// them; one the input does not understand fails the open with `DecodeError.Code.invalidOption`.
public struct DecodeOptions: Sendable, Equatable {
    /// RTSP lower transport.
    public enum Transport: String, Sendable, CaseIterable, Equatable {
        /// RTP interleaved on the RTSP TCP connection: works through NAT and firewalls.
        case tcp
        /// RTP over UDP: lower latency, loses packets under load.
        case udp
    }

    /// The pixel format frames are converted to (once, by swscale).
    public var outputFormat: PixelFormat = .bgr24
    /// RTSP transport (ignored for other sources).
    public var transport: Transport = .tcp
    /// Longest wait to open a live source (connect, handshake, first packets).
    public var connectTimeout: Duration = .seconds(10)
    /// Longest wait for one packet from a live source once open.
    public var readTimeout: Duration = .seconds(10)
    /// FFmpeg input format (demuxer) name, e.g. `rawvideo`, `mjpeg`, `v4l2`; nil probes the input.
    public var inputFormat: String?
    /// Input frame size `WIDTHxHEIGHT` for raw input and capture devices.
    public var videoSize: String?
    /// Input frame rate (`25`, `30000/1001`) for raw input and capture devices.
    public var frameRate: String?
    /// Input pixel format: `yuyv422`, `mjpeg`, ... (`input_format` for V4L2, `pixel_format` otherwise).
    public var inputPixelFormat: String?
    /// Further demuxer or protocol options, by FFmpeg's names.
    public var formatOptions: [String: String] = [:]
    /// Decoder threads; 0 lets FFmpeg choose (one per core).
    public var threads: Int = 0
    /// Keep every Nth decoded frame (1 keeps all).
    public var sampleEvery: Int = 1
    /// Deliver at most this many frames per second of media time; nil for no cap.
    public var maxFPS: Double?
    /// When set, each delivered frame also carries its picture scaled to this first pass's size
    /// (`Frame.scaled`), made by the same swscale call pattern from the decoded planes.
    public var firstPass: FirstPassSizing?
    /// With `sampleEvery` ≥ 2 (and no `maxFPS`), frames the sampler would throw away are not decoded at all where
    /// the codec allows it: a non-reference frame (most B-frames) is discarded before decoding. False decodes
    /// every frame (for measuring what it saves).
    public var skipUnusedFrames: Bool = true
    /// Keep each frame's full picture as a copy of the decoder's planes and convert it to `outputFormat` only when
    /// read (`FramePicture`): half the memory per held 1080p frame (YUV 4:2:0 against BGR24), and no conversion at
    /// all for frames nobody reads. For consumers that hold frames (the stream pipeline); the pixels read are the same.
    /// Not for a picture that `firstPass` does not scale down (it fits the first pass already): the first pass and
    /// the motion gate read that one whole, so it is converted at once.
    public var keepPlanes: Bool = false

    /// Defaults: BGR24, RTSP over TCP, 10 s timeouts, every frame.
    public init() {}
}
