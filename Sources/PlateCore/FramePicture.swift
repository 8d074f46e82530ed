/// A frame's full-resolution picture: either packed pixels already, or the decoder's planes (YUV 4:2:0 for most
/// cameras: half the bytes of BGR24) that become packed pixels only when something reads them.
///
/// Why: a 1080p BGR24 picture is 6 MiB, its YUV 4:2:0 planes 3 MiB. The stream pipeline holds a camera's frames
/// while they queue for a worker, wait in the re-ordering buffer and serve as a live track's best frame, and only a
/// worker's recognizer (and an event's sinks) read the pixels. Keeping the planes until then halves what the held
/// frames cost; a frame the motion gate skips or the queue drops is never converted at all.
public struct FramePicture: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    private let storage: Storage

    private enum Storage: Sendable {
        case packed(Image)
        case planes(PixelBuffer, convert: @Sendable (PixelBuffer) -> Image)
    }

    /// Pixels already in their final form.
    public init(_ image: Image) {
        width = image.width
        height = image.height
        storage = .packed(image)
    }

    /// A `width` x `height` picture kept as `planes` (a decoder's own layout), which `convert` turns into packed
    /// pixels of that size, as often as asked, from any thread. `convert` must not fail: the decoder checked the
    /// layout when it copied the planes.
    public init(width: Int, height: Int, planes: PixelBuffer, convert: @escaping @Sendable (PixelBuffer) -> Image) {
        precondition(width > 0 && height > 0, "picture must not be empty")
        self.width = width
        self.height = height
        storage = .planes(planes, convert: convert)
    }

    /// The packed pixels: the image itself, or a new conversion of the planes (a few ms for 1080p: take it once
    /// per use, not per pixel).
    public var image: Image {
        switch storage {
        case .packed(let image): image
        case .planes(let planes, let convert): convert(planes)
        }
    }

    /// Whether reading `image` converts (the picture is held as planes).
    public var isDeferred: Bool {
        if case .planes = storage { return true }
        return false
    }

    /// Bytes of pixel memory the picture holds now.
    public var heldBytes: Int {
        switch storage {
        case .packed(let image): image.buffer.count
        case .planes(let planes, _): planes.count
        }
    }
}
