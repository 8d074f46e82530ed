import Foundation
import PlateCore
import Testing
@testable import PlatePipeline

/// Where the first pass looks (issue 17, item 1): the gate's changed areas, and the pipeline's choice between them
/// and the whole picture.
@Suite struct SearchAreaTests {
    typealias G = MotionGateTests

    /// A gate fed `count` frames of the scripted road with `blob` (cells) from frame 20 on.
    static func gate(after count: Int, blobs: (Int) -> [(x: Int, y: Int, w: Int, h: Int)]) -> (MotionGate, MotionGate.Decision, GreyThumbnail) {
        var gate = MotionGate()
        var noise = G.Noise(state: 7)
        var last = MotionGate.Decision.skip
        var thumbnail = G.frame(noise: &noise)
        for i in 0..<count {
            thumbnail = Self.frame(blobs(i), noise: &noise)
            last = gate.handle(thumbnail, at: G.time(i), liveTracks: 0)
        }
        return (gate, last, thumbnail)
    }

    static func frame(_ blobs: [(x: Int, y: Int, w: Int, h: Int)], noise: inout G.Noise) -> GreyThumbnail {
        var values = G.frame(noise: &noise).values
        for b in blobs {
            for y in b.y..<(b.y + b.h) { for x in b.x..<(b.x + b.w) { values[y * G.width + x] = 235 } }
        }
        return GreyThumbnail(width: G.width, height: G.height, cell: 12, values: values)
    }

    static func contains(_ r: MotionGate.CellRect, _ b: (x: Int, y: Int, w: Int, h: Int)) -> Bool {
        r.x <= b.x && r.y <= b.y && r.x + r.width >= b.x + b.w && r.y + r.height >= b.y + b.h
    }

    @Test func aMovingBlobIsOneAreaThatHoldsIt() throws {
        let (gate, decision, _) = Self.gate(after: 40) { i in i >= 20 ? [(x: 20 + (i - 20) * 2, y: 50, w: 12, h: 8)] : [] }
        #expect(decision == .recognize(.change))
        let areas = try #require(gate.changedAreas())
        #expect(areas.count == 1)
        let area = try #require(areas.first)
        // It holds where the blob is now and where it was within the last second (the hold).
        #expect(Self.contains(area, (x: 58, y: 50, w: 12, h: 8)))
        #expect(Self.contains(area, (x: 36, y: 50, w: 12, h: 8)))
        // ...and not the whole picture.
        #expect(area.width * area.height < G.width * G.height / 4)
    }

    @Test func twoBlobsFarApartAreTwoAreas() throws {
        let (gate, _, _) = Self.gate(after: 30) { i in
            i >= 20 ? [(x: 10 + i, y: 10, w: 10, h: 6), (x: 120 - i, y: 70, w: 10, h: 6)] : []
        }
        let areas = try #require(gate.changedAreas())
        #expect(areas.count == 2)
        #expect(areas.contains { Self.contains($0, (x: 39, y: 10, w: 10, h: 6)) })
        #expect(areas.contains { Self.contains($0, (x: 91, y: 70, w: 10, h: 6)) })
    }

    @Test func aStillPictureHasNoAreasAfterTheHoldAndNoiseMakesNone() throws {
        let (gate, decision, _) = Self.gate(after: 40) { _ in [] }
        #expect(!decision.recognizes)
        #expect(try #require(gate.changedAreas()).isEmpty)
        #expect(MotionGate().changedAreas() == nil)
    }

    @Test func thePipelineSearchesTheAreasOnlyWhileNoTrackIsAlive() throws {
        let (gate, decision, thumbnail) = Self.gate(after: 40) { i in i >= 20 ? [(x: 20 + (i - 20) * 2, y: 50, w: 12, h: 8)] : [] }
        // A 1920 x 1080 frame whose thumbnail is the 160 x 90 one above (12 px cells).
        let image = Image(width: 1920, height: 1080, format: .bgr24)
        let areas = try #require(Pipeline.searchAreas(decision, gate: gate, thumbnail: thumbnail, of: image, full: ImageSize(width: image.width, height: image.height), liveTracks: 0))
        let area = try #require(areas.first)
        // The blob now: cells 58..<70 x 50..<58, pixels 696..<840 x 600..<696.
        #expect(area.contains(Point(x: 768, y: 648)))
        #expect(area.width < 960)
        // A live track makes the whole picture searched, as do the start and the heartbeat.
        #expect(Pipeline.searchAreas(decision, gate: gate, thumbnail: thumbnail, of: image, full: ImageSize(width: image.width, height: image.height), liveTracks: 1) == nil)
        #expect(Pipeline.searchAreas(.recognize(.heartbeat), gate: gate, thumbnail: thumbnail, of: image, full: ImageSize(width: image.width, height: image.height), liveTracks: 0) == nil)
        #expect(Pipeline.searchAreas(.recognize(.start), gate: gate, thumbnail: thumbnail, of: image, full: ImageSize(width: image.width, height: image.height), liveTracks: 0) == nil)
    }
}
