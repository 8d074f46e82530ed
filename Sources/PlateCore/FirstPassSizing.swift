/// The sizes a recognizer's first detection pass sees pictures at, so that a decoder can hand it each frame
/// already scaled (libswscale, straight from the decoded YUV planes, in the same call that converts the colours)
/// and the first pass does not shrink the full-resolution picture again.
///
/// A first pass letterboxes the picture into one of its detector inputs: the smallest input that holds the picture
/// at no less than 95 % of the main (first) input's scale, or of the picture's own size when the main input would
/// enlarge it. The picture's content there is `scaledSize(width:height:)`; the rest of the input is padding.
public struct FirstPassSizing: Sendable, Hashable {
    /// The detector inputs, the main one first (e.g. 448x448, then 512x288 for 16:9 and 512x384 for 4:3).
    public let inputs: [ImageSize]

    /// Sizing over `inputs`, the main one first; there must be at least one.
    public init(inputs: [ImageSize]) {
        precondition(!inputs.isEmpty && inputs.allSatisfy { $0.width > 0 && $0.height > 0 }, "first-pass inputs must not be empty")
        self.inputs = inputs
    }

    /// The scale at which a letterboxed input of size `input` holds a `width` x `height` picture.
    public static func letterboxScale(width: Int, height: Int, input: ImageSize) -> Double {
        min(Double(input.width) / Double(width), Double(input.height) / Double(height))
    }

    /// Which of `inputs` the first pass on a `width` x `height` picture uses.
    public func input(width: Int, height: Int) -> Int {
        func scale(_ i: ImageSize) -> Double { Self.letterboxScale(width: width, height: height, input: i) }
        let needed = 0.95 * min(1, scale(inputs[0]))
        return inputs.indices.filter { scale(inputs[$0]) >= needed }
            .min { inputs[$0].width * inputs[$0].height < inputs[$1].width * inputs[$1].height } ?? 0
    }

    /// The picture's size inside the first pass's input: both sides times the letterbox scale, rounded as the
    /// letterbox rounds them. Nil when the first pass would not shrink the picture (nothing to save).
    public func scaledSize(width: Int, height: Int) -> ImageSize? {
        guard width > 0, height > 0 else { return nil }
        let r = Self.letterboxScale(width: width, height: height, input: inputs[input(width: width, height: height)])
        guard r < 1 else { return nil }
        return ImageSize(width: max(1, Int((Double(width) * r).rounded())), height: max(1, Int((Double(height) * r).rounded())))
    }
}
