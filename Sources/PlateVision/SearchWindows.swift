public import PlateCore

/// Fixed-size windows that cover a picture's search areas (`RecognitionOptions.searchAreas`), so that the first
/// detection pass can look at what moved instead of the whole picture.
public enum SearchWindows {
    /// A window in picture pixels.
    public typealias Window = (x0: Int, y0: Int, w: Int, h: Int)

    /// Windows of `size` (picture pixels; smaller where the picture is) covering every one of `areas` (clipped to
    /// the `width` x `height` picture, empty ones dropped), at most `limit` of them; nil when more are needed.
    ///
    /// Areas whose union fits in one window share it (merged greedily until no two fit together); an area larger
    /// than a window gets a grid of windows spread evenly over it, neighbours overlapping. Each window is centred
    /// on what it covers and moved inside the picture, so it is always full size: the detector then sees the
    /// window at exactly the first pass's scale, and a plate near an area's edge whole.
    public static func cover(_ areas: [BoundingBox], width: Int, height: Int, size: (w: Int, h: Int), limit: Int) -> [Window]? {
        let picture = BoundingBox(xmin: 0, ymin: 0, xmax: Double(width), ymax: Double(height))
        var groups = areas.compactMap { $0.intersection(picture) }.filter { $0.width > 0 && $0.height > 0 }
        let w = min(size.w, width), h = min(size.h, height)
        guard w > 0, h > 0 else { return nil }
        func fits(_ b: BoundingBox) -> Bool { b.width <= Double(w) && b.height <= Double(h) }
        var merged = true
        while merged {
            merged = false
            search: for i in groups.indices {
                for j in groups.indices where j > i && fits(groups[i].union(groups[j])) {
                    groups[i] = groups[i].union(groups[j])
                    groups.remove(at: j)
                    merged = true
                    break search
                }
            }
        }
        var windows: [Window] = []
        for group in groups {
            let nx = max(1, Int((group.width / Double(w)).rounded(.up))), ny = max(1, Int((group.height / Double(h)).rounded(.up)))
            guard windows.count + nx * ny <= limit else { return nil }
            // Window origins spread from the group's first to its last possible one (one window: centred on it).
            func starts(_ count: Int, _ lo: Double, _ extent: Double, _ side: Int, _ total: Int) -> [Int] {
                let first = count == 1 ? lo + (extent - Double(side)) / 2 : lo
                let last = lo + extent - Double(side)
                return (0..<count).map { k in
                    let origin = count == 1 ? first : first + (last - first) * Double(k) / Double(count - 1)
                    return min(max(0, Int(origin.rounded())), total - side)
                }
            }
            for y0 in starts(ny, group.ymin, group.height, h, height) {
                for x0 in starts(nx, group.xmin, group.width, w, width) { windows.append((x0, y0, w, h)) }
            }
        }
        return windows
    }
}
