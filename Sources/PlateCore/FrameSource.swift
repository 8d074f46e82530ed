/// What a source knows about its video stream once it is open.
public struct StreamInfo: Sendable, Equatable, Codable {
    /// Container / input format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `rtsp`, `video4linux2,v4l2`.
    public var container: String
    /// Codec name, e.g. `h264`, `hevc`, `mjpeg`, `mpeg4`.
    public var codec: String
    /// Coded width in pixels.
    public var width: Int
    /// Coded height in pixels.
    public var height: Int
    /// Nominal frames per second (0 when the stream does not say).
    public var fps: Double
    /// Duration in seconds, when known (files); nil for live streams.
    public var durationSeconds: Double?
    /// Number of frames, when the container says.
    public var frameCount: Int?
    /// Bit rate in bits per second, when known.
    public var bitRate: Int?
    /// Whether the source is live (camera, RTSP, HTTP stream, device) rather than a file.
    public var isLive: Bool

    /// Creates stream information.
    public init(container: String, codec: String, width: Int, height: Int, fps: Double,
                durationSeconds: Double?, frameCount: Int?, bitRate: Int?, isLive: Bool) {
        self.container = container
        self.codec = codec
        self.width = width
        self.height = height
        self.fps = fps
        self.durationSeconds = durationSeconds
        self.frameCount = frameCount
        self.bitRate = bitRate
        self.isLive = isLive
    }
}

/// Counters a source keeps while it runs.
public struct SourceStats: Sendable, Equatable {
    /// Frames decoded from the stream.
    public var decoded: Int = 0
    /// Frames handed to the consumer.
    public var delivered: Int = 0
    /// Frames decoded but skipped by sampling (`sample`, `max_fps`).
    public var droppedBySampling: Int = 0
    /// Frames sampling throws away that were not even decoded (non-reference frames left out by the decoder).
    public var notDecoded: Int = 0
    /// Successful reconnections after a failure (live sources).
    public var reconnects: Int = 0
    /// Packets or frames the decoder rejected as corrupt.
    public var corruptPackets: Int = 0

    /// All zero.
    public init() {}
}

/// The frames of one camera or file, in the pixel format the consumer asked for.
///
/// A source is used from one thread at a time: the pipeline gives each camera its own decode thread.
public protocol FrameSource: AnyObject {
    /// The source, credentials redacted, fit for logs.
    var sourceDescription: String { get }
    /// Stream properties of the open stream.
    var info: StreamInfo { get }
    /// Counters so far.
    var stats: SourceStats { get }
    /// Blocks until the next frame. Returns nil at the clean end of a finite source; throws when
    /// the source fails (a live source that reconnects by itself only throws when told to stop).
    func nextFrame() throws -> Frame?
    /// Stops the source; a blocked `nextFrame()` returns or throws soon after. Safe from any thread.
    func close()
}
