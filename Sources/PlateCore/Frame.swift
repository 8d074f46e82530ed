public import Foundation

/// A stable identifier of one camera (or one input file), as named in config.json.
public struct CameraID: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier text.
    public let rawValue: String
    /// Wraps an identifier.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a literal identifier.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The identifier text.
    public var description: String { rawValue }
}

/// A point on a stream's media timeline, kept as an exact rational (`value / timescale` seconds).
public struct MediaTime: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Ticks since the start of the stream.
    public let value: Int64
    /// Ticks per second (> 0).
    public let timescale: Int64

    /// A time of `value` ticks at `timescale` ticks per second.
    public init(value: Int64, timescale: Int64) {
        precondition(timescale > 0, "timescale must be positive")
        self.value = value
        self.timescale = timescale
    }

    /// The start of the stream.
    public static let zero = MediaTime(value: 0, timescale: 1)

    /// A time from seconds, at microsecond precision.
    public init(seconds: Double) {
        self.init(value: Int64((seconds * 1_000_000).rounded()), timescale: 1_000_000)
    }

    /// The time in seconds.
    public var seconds: Double { Double(value) / Double(timescale) }

    /// Compares exactly, without going through floating point.
    public static func < (lhs: MediaTime, rhs: MediaTime) -> Bool {
        lhs.value.multipliedFullWidth(by: rhs.timescale) < rhs.value.multipliedFullWidth(by: lhs.timescale)
    }

    /// Equal when they name the same instant, whatever the timescale.
    public static func == (lhs: MediaTime, rhs: MediaTime) -> Bool {
        lhs.value.multipliedFullWidth(by: rhs.timescale) == rhs.value.multipliedFullWidth(by: lhs.timescale)
    }

    /// Hashes the reduced fraction so equal instants hash alike.
    public func hash(into hasher: inout Hasher) {
        var a = abs(value), b = timescale
        while b != 0 { (a, b) = (b, a % b) }
        let g = max(a, 1)
        hasher.combine(value / g)
        hasher.combine(timescale / g)
    }

    /// Seconds with millisecond precision, e.g. `1.040s`.
    public var description: String { String(format: "%.3fs", seconds) }
}

/// One decoded video frame of one camera, already converted to the format its consumer asked for.
public struct Frame: Sendable {
    /// The camera the frame came from.
    public let cameraID: CameraID
    /// Index of the frame among the frames the source decoded (0-based, counting dropped ones),
    /// continuing across reconnects.
    public let index: Int
    /// Position on the media timeline: from the start of a file, or since a live stream began.
    public let mediaTime: MediaTime
    /// Wall-clock time the frame was decoded.
    public let wallClock: Date
    /// The full-resolution picture, as packed pixels or as the decoder's planes (`FramePicture`).
    public let picture: FramePicture
    /// The pixels, packed: converted from the decoder's planes on each read when `picture` keeps them (see
    /// `FramePicture.image`); read it once per use.
    public var image: Image { picture.image }
    /// Width of the full picture in pixels.
    public var width: Int { picture.width }
    /// Height of the full picture in pixels.
    public var height: Int { picture.height }
    /// The same picture already scaled down to what a recognizer's first detection pass looks at
    /// (`FirstPassSizing`), when the source was asked for it; nil otherwise.
    public let scaled: Image?

    /// Creates a frame of packed pixels.
    public init(cameraID: CameraID, index: Int, mediaTime: MediaTime, wallClock: Date, image: Image, scaled: Image? = nil) {
        self.init(cameraID: cameraID, index: index, mediaTime: mediaTime, wallClock: wallClock, picture: FramePicture(image),
                  scaled: scaled)
    }

    /// Creates a frame whose full picture may be held as the decoder's planes.
    public init(cameraID: CameraID, index: Int, mediaTime: MediaTime, wallClock: Date, picture: FramePicture, scaled: Image? = nil) {
        self.cameraID = cameraID
        self.index = index
        self.mediaTime = mediaTime
        self.wallClock = wallClock
        self.picture = picture
        self.scaled = scaled
    }
}
