import PlateCore
import PlateVision
import Testing

/// `SearchWindows.cover`: fixed-size windows over the search areas of a 1920 x 1080 picture (840 px windows: the
/// 224 px second-look model at a 512 px first pass's scale).
@Suite struct SearchWindowsTests {
    static let size = (w: 840, h: 840)

    static func holds(_ w: SearchWindows.Window, _ b: BoundingBox) -> Bool {
        Double(w.x0) <= b.xmin && Double(w.y0) <= b.ymin && Double(w.x0 + w.w) >= b.xmax && Double(w.y0 + w.h) >= b.ymax
    }

    @Test func oneAreaGetsOneFullSizeWindowCentredOnItAndInsideThePicture() throws {
        let area = BoundingBox(x: 900, y: 500, width: 200, height: 100)
        let windows = try #require(SearchWindows.cover([area], width: 1920, height: 1080, size: Self.size, limit: 2))
        #expect(windows.count == 1)
        let w = try #require(windows.first)
        #expect(w.w == 840 && w.h == 840)
        #expect(Self.holds(w, area))
        #expect(abs(w.x0 + 420 - 1000) <= 1)
        // Near the edge the window moves inside rather than shrinking.
        let corner = try #require(SearchWindows.cover([BoundingBox(x: 1850, y: 1000, width: 60, height: 60)], width: 1920,
                                                      height: 1080, size: Self.size, limit: 2)?.first)
        #expect(corner.x0 == 1080 && corner.y0 == 240 && corner.w == 840)
    }

    @Test func areasThatFitTogetherShareAWindowAndFarOnesGetTheirOwn() throws {
        let near = [BoundingBox(x: 100, y: 100, width: 100, height: 100), BoundingBox(x: 500, y: 400, width: 100, height: 100)]
        #expect(SearchWindows.cover(near, width: 1920, height: 1080, size: Self.size, limit: 2)?.count == 1)
        let far = [BoundingBox(x: 100, y: 100, width: 100, height: 100), BoundingBox(x: 1700, y: 900, width: 100, height: 100)]
        let windows = try #require(SearchWindows.cover(far, width: 1920, height: 1080, size: Self.size, limit: 2))
        #expect(windows.count == 2)
        for area in far { #expect(windows.contains { Self.holds($0, area) }) }
    }

    @Test func tooManyWindowsMeansTheWholePicture() {
        let three = [BoundingBox(x: 0, y: 0, width: 50, height: 50), BoundingBox(x: 1870, y: 0, width: 50, height: 50),
                     BoundingBox(x: 900, y: 1030, width: 50, height: 50)]
        #expect(SearchWindows.cover(three, width: 1920, height: 1080, size: Self.size, limit: 2) == nil)
        #expect(SearchWindows.cover(three, width: 1920, height: 1080, size: Self.size, limit: 3)?.count == 3)
        // One area wider than a window needs two side by side.
        let wide = BoundingBox(x: 200, y: 300, width: 1200, height: 200)
        let windows = SearchWindows.cover([wide], width: 1920, height: 1080, size: Self.size, limit: 2)
        #expect(windows?.count == 2)
        #expect(windows.map { ws in Double(ws.map(\.x0).min()!) <= wide.xmin && Double(ws.map { $0.x0 + $0.w }.max()!) >= wide.xmax } == true)
        #expect(SearchWindows.cover([wide], width: 1920, height: 1080, size: Self.size, limit: 1) == nil)
    }

    @Test func areasOutsideThePictureAreDropped() {
        #expect(SearchWindows.cover([BoundingBox(x: -500, y: -500, width: 100, height: 100)], width: 1920, height: 1080,
                                    size: Self.size, limit: 2)?.isEmpty == true)
    }
}
