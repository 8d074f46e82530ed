/// A position in image pixels: x grows to the right, y grows downwards (image convention).
public struct Point: Hashable, Sendable {
    /// Horizontal position in pixels.
    public var x: Double
    /// Vertical position in pixels, downwards.
    public var y: Double

    /// A point at (x, y).
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Euclidean distance to another point, in pixels.
    public func distance(to other: Point) -> Double {
        ((x - other.x) * (x - other.x) + (y - other.y) * (y - other.y)).squareRoot()
    }
}

/// The size of an image in pixels.
public struct ImageSize: Hashable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// A size of `width` × `height` pixels.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Length of the diagonal in pixels.
    public var diagonal: Double {
        (Double(width * width) + Double(height * height)).squareRoot()
    }
}

/// An axis-aligned rectangle in image pixels, by its top-left (`xmin`, `ymin`) and bottom-right
/// (`xmax`, `ymax`) corners, as Plate Recognizer's `box` objects name them.
///
/// Coordinates are `Double` because detectors produce sub-pixel boxes and the tracker predicts
/// motion; the JSON encoders round them to whole pixels.
public struct BoundingBox: Hashable, Sendable {
    /// Left edge.
    public var xmin: Double
    /// Top edge.
    public var ymin: Double
    /// Right edge.
    public var xmax: Double
    /// Bottom edge.
    public var ymax: Double

    /// A box from its corners; a box with `xmax < xmin` or `ymax < ymin` is empty.
    public init(xmin: Double, ymin: Double, xmax: Double, ymax: Double) {
        self.xmin = xmin
        self.ymin = ymin
        self.xmax = xmax
        self.ymax = ymax
    }

    /// A box from its top-left corner and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.init(xmin: x, ymin: y, xmax: x + width, ymax: y + height)
    }

    /// A box of the given size centred on `center`.
    public init(center: Point, width: Double, height: Double) {
        self.init(x: center.x - width / 2, y: center.y - height / 2, width: width, height: height)
    }

    /// Width in pixels (0 for an empty box).
    public var width: Double { max(0, xmax - xmin) }
    /// Height in pixels (0 for an empty box).
    public var height: Double { max(0, ymax - ymin) }
    /// Area in square pixels.
    public var area: Double { width * height }
    /// The centre point.
    public var center: Point { Point(x: (xmin + xmax) / 2, y: (ymin + ymax) / 2) }
    /// Length of the diagonal, a scale for "how far is far" relative to the object's size.
    public var diagonal: Double { (width * width + height * height).squareRoot() }

    /// The overlapping part of two boxes, or nil when they do not overlap.
    public func intersection(_ other: BoundingBox) -> BoundingBox? {
        let box = BoundingBox(xmin: max(xmin, other.xmin), ymin: max(ymin, other.ymin),
                              xmax: min(xmax, other.xmax), ymax: min(ymax, other.ymax))
        return box.area > 0 ? box : nil
    }

    /// The smallest box holding both.
    public func union(_ other: BoundingBox) -> BoundingBox {
        BoundingBox(xmin: min(xmin, other.xmin), ymin: min(ymin, other.ymin), xmax: max(xmax, other.xmax), ymax: max(ymax, other.ymax))
    }

    /// Intersection over union: 0 for disjoint boxes, 1 for identical ones.
    public func iou(_ other: BoundingBox) -> Double {
        guard let overlap = intersection(other)?.area else { return 0 }
        let union = area + other.area - overlap
        return union > 0 ? overlap / union : 0
    }

    /// Whether `point` lies inside the box (edges included).
    public func contains(_ point: Point) -> Bool {
        point.x >= xmin && point.x <= xmax && point.y >= ymin && point.y <= ymax
    }

    /// The box moved by (`dx`, `dy`) pixels.
    public func offsetBy(dx: Double, dy: Double) -> BoundingBox {
        BoundingBox(xmin: xmin + dx, ymin: ymin + dy, xmax: xmax + dx, ymax: ymax + dy)
    }

    /// The box with every coordinate multiplied: x by `sx`, y by `sy` (from a scaled copy of a picture to the picture).
    public func scaledBy(sx: Double, sy: Double) -> BoundingBox {
        BoundingBox(xmin: xmin * sx, ymin: ymin * sy, xmax: xmax * sx, ymax: ymax * sy)
    }
}

/// The four corners of a plate as found in the image; a plate seen at an angle is not a rectangle.
public struct Quad: Hashable, Sendable {
    /// Top-left corner of the plate (as read, not necessarily the smallest x and y).
    public var topLeft: Point
    /// Top-right corner.
    public var topRight: Point
    /// Bottom-right corner.
    public var bottomRight: Point
    /// Bottom-left corner.
    public var bottomLeft: Point

    /// A quadrilateral from its corners, clockwise from the top-left one.
    public init(topLeft: Point, topRight: Point, bottomRight: Point, bottomLeft: Point) {
        self.topLeft = topLeft
        self.topRight = topRight
        self.bottomRight = bottomRight
        self.bottomLeft = bottomLeft
    }

    /// The corners in order: top-left, top-right, bottom-right, bottom-left.
    public var corners: [Point] { [topLeft, topRight, bottomRight, bottomLeft] }

    /// The quadrilateral moved by (`dx`, `dy`) pixels.
    public func offsetBy(dx: Double, dy: Double) -> Quad {
        func move(_ p: Point) -> Point { Point(x: p.x + dx, y: p.y + dy) }
        return Quad(topLeft: move(topLeft), topRight: move(topRight), bottomRight: move(bottomRight), bottomLeft: move(bottomLeft))
    }

    /// The quadrilateral with x multiplied by `sx` and y by `sy`.
    public func scaledBy(sx: Double, sy: Double) -> Quad {
        func scale(_ p: Point) -> Point { Point(x: p.x * sx, y: p.y * sy) }
        return Quad(topLeft: scale(topLeft), topRight: scale(topRight), bottomRight: scale(bottomRight), bottomLeft: scale(bottomLeft))
    }

    /// The smallest axis-aligned box holding all four corners.
    public var boundingBox: BoundingBox {
        let xs = corners.map(\.x), ys = corners.map(\.y)
        return BoundingBox(xmin: xs.min()!, ymin: ys.min()!, xmax: xs.max()!, ymax: ys.max()!)
    }
}
