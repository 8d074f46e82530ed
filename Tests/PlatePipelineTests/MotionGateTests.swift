import Foundation
import PlateCore
import Testing
@testable import PlatePipeline

/// The motion gate as a pure function of scripted thumbnails: a textured 160 x 90 "road" with sensor noise, at
/// 12.5 frames a second (a 25 fps camera with `sample: 2`).
@Suite struct MotionGateTests {
    static let width = 160, height = 90, fps = 12.5

    /// A deterministic generator (SplitMix64), so every run sees the same noise.
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        /// Roughly normal, mean 0, standard deviation `sigma` (sum of uniforms).
        mutating func gaussian(_ sigma: Double) -> Double { (next() + next() + next() + next() - 2) * sigma * 1.732 }
    }

    /// A frame: the textured background times `light`, plus `blob` (a bright rectangle, in cells), plus noise.
    static func frame(light: Double = 1, blob: (x: Int, y: Int, w: Int, h: Int)? = nil, noise: inout Noise) -> GreyThumbnail {
        var values = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                // Asphalt at the bottom, a brighter verge at the top, lane marks and a little texture.
                var v = y < 30 ? 150.0 : 90.0
                if y >= 30, x % 40 < 12, y % 20 == 0 { v = 200 }
                v += Double((x * 7 + y * 13) % 11) - 5
                if let b = blob, x >= b.x, x < b.x + b.w, y >= b.y, y < b.y + b.h { v = 210 }
                values[y * width + x] = UInt8(max(0, min(255, v * light + noise.gaussian(2.5))))
            }
        }
        return GreyThumbnail(width: width, height: height, cell: 12, values: values)
    }

    static func time(_ i: Int) -> MediaTime { MediaTime(seconds: Double(i) / fps) }

    /// Runs `count` frames through a new gate; returns the decisions.
    static func run(_ count: Int, liveTracks: (Int) -> Int = { _ in 0 },
                    frame: (Int, inout Noise) -> GreyThumbnail) -> [MotionGate.Decision] {
        var gate = MotionGate()
        var noise = Noise(state: 42)
        return (0..<count).map { i in gate.handle(frame(i, &noise), at: time(i), liveTracks: liveTracks(i)) }
    }

    static func skipped(_ decisions: [MotionGate.Decision]) -> Int { decisions.filter { !$0.recognizes }.count }

    @Test func aStaticSceneIsSkippedButForTheStartAndAHeartbeat() {
        let decisions = Self.run(125) { _, noise in Self.frame(noise: &noise) }   // 10 s
        #expect(decisions[0] == .recognize(.start))
        // The first second is held (the tracker has not seen the first frames yet).
        #expect(decisions[1...12].allSatisfy { $0 == .recognize(.hold) })
        // Then nothing changes: every frame skipped but one heartbeat every 4 s (at 4.96 s and 8.96 s).
        #expect(decisions[13...].filter { $0 == .recognize(.heartbeat) }.count == 2)
        #expect(Self.skipped(decisions) == 110)
    }

    @Test func aMovingBlobIsRecognizedWhileItMovesAndForTheHoldAfter() {
        // A vehicle-sized blob (12 x 8 cells, 0.7 % of the picture) crosses during frames 40..<80.
        let decisions = Self.run(120) { i, noise in
            Self.frame(blob: (40..<80).contains(i) ? (x: (i - 40) * 3, y: 50, w: 12, h: 8) : nil, noise: &noise)
        }
        #expect(decisions[13..<40].allSatisfy { !$0.recognizes })
        #expect(decisions[40..<80].allSatisfy { $0 == .recognize(.change) })
        // The hold: the second after the last change (12.5 frames), then skipped again.
        #expect(decisions[80..<92].allSatisfy { $0 == .recognize(.hold) })
        #expect(decisions[94..<120].allSatisfy { !$0.recognizes })
    }

    @Test func aSmallFarVehicleStillCounts() {
        // A far car: 6 x 3 cells (0.125 % of the picture, 72 x 36 px of a 1080p frame), moving slowly.
        let decisions = Self.run(60) { i, noise in
            Self.frame(blob: i >= 20 ? (x: 30 + i / 4, y: 45, w: 6, h: 3) : nil, noise: &noise)
        }
        #expect(decisions[20..<60].allSatisfy { $0.recognizes })
    }

    @Test func slowLightDriftAndASuddenLightChangeAreNotMotion() {
        // Dusk: the light falls by 40 % over 20 s, smoothly; then a cloud: +30 % from one frame to the next.
        let decisions = Self.run(300) { i, noise in
            let dusk = 1 - 0.4 * min(1, Double(i) / 250)
            return Self.frame(light: i >= 260 ? dusk * 1.3 : dusk, noise: &noise)
        }
        #expect(decisions[13...].filter { $0 == .recognize(.change) || $0 == .recognize(.hold) }.isEmpty)
        #expect(Self.skipped(decisions) >= 280)   // 300 less the start's second and a heartbeat every 4 s
    }

    @Test func aLiveTrackIsNeverSkipped() {
        // A parked car's track stays alive: nothing moves, every frame goes to recognition.
        let decisions = Self.run(100, liveTracks: { $0 >= 10 && $0 < 70 ? 1 : 0 }) { _, noise in Self.frame(noise: &noise) }
        #expect(decisions[10..<70].allSatisfy { $0 == .recognize(.track) })
        #expect(decisions[1..<10].allSatisfy { $0 == .recognize(.hold) })
        #expect(decisions[70..<100].filter { $0.recognizes }.count <= 1)   // a heartbeat at most
    }

    @Test func aVehicleThatParksIsAbsorbedAfterItsTrackEnds() {
        // The blob drives in and stops for good at frame 30 (2.4 s); its track ends at frame 50. Once it has held
        // still for 3 s it is background, and the camera is idle again.
        let decisions = Self.run(200, liveTracks: { $0 >= 20 && $0 < 50 ? 1 : 0 }) { i, noise in
            Self.frame(blob: i >= 20 ? (x: min(i, 30) * 2, y: 50, w: 12, h: 8) : nil, noise: &noise)
        }
        #expect(decisions[50..<67].allSatisfy { $0.recognizes })             // changed, and not yet still for 3 s
        #expect(Self.skipped(Array(decisions[100..<200])) >= 95)
    }

    @Test func aVehicleInTheFirstFrameLeavesNoGhost() {
        // The first frame holds a vehicle, which drives off at frame 10: the bare road where it stood differs
        // from the background learned from that frame, but holds still, so within a few seconds it is background.
        let decisions = Self.run(200) { i, noise in
            Self.frame(blob: i < 10 ? (x: 60, y: 50, w: 12, h: 8) : (i < 40 ? (x: 60 + (i - 10) * 3, y: 50, w: 12, h: 8) : nil),
                       noise: &noise)
        }
        #expect(decisions[10..<40].allSatisfy { $0.recognizes })
        #expect(Self.skipped(Array(decisions[100..<200])) >= 95)
    }

    @Test func aNewPictureSizeOrAClockThatWentBackRestarts() {
        var gate = MotionGate()
        var noise = Noise(state: 7)
        #expect(gate.handle(Self.frame(noise: &noise), at: Self.time(0), liveTracks: 0) == .recognize(.start))
        #expect(gate.handle(Self.frame(noise: &noise), at: Self.time(15), liveTracks: 0) == .skip)
        let small = GreyThumbnail(width: 80, height: 45, values: [UInt8](repeating: 90, count: 80 * 45))
        #expect(gate.handle(small, at: Self.time(20), liveTracks: 0) == .recognize(.start))
        #expect(gate.handle(small, at: Self.time(35), liveTracks: 0) == .skip)
        #expect(gate.handle(small, at: Self.time(30), liveTracks: 0) == .recognize(.start))
    }

    @Test func theThumbnailAveragesEachCellOfAPicture() {
        // A 32 x 16 BGR picture, left half black, right half white: at cell 8, a 4 x 2 thumbnail 0 0 255 255.
        let image = Image(width: 32, height: 16, format: .bgr24)
        let bytes = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        for y in 0..<16 { for x in 0..<32 { for c in 0..<3 { bytes[y * image.stride + x * 3 + c] = x < 16 ? 0 : 255 } } }
        let thumbnail = GreyThumbnail(image, cell: 8)
        #expect(thumbnail.width == 4 && thumbnail.height == 2)
        #expect(thumbnail.values == [0, 0, 255, 255, 0, 0, 255, 255])
        // Pure green weighs half: (0 + 2 * 255 + 0) / 4.
        for y in 0..<16 { for x in 0..<32 { bytes[y * image.stride + x * 3] = 0; bytes[y * image.stride + x * 3 + 1] = 255; bytes[y * image.stride + x * 3 + 2] = 0 } }
        #expect(GreyThumbnail(image, cell: 8).values.allSatisfy { $0 == 127 })
        #expect(MotionGate.Settings().cell(forWidth: 1920) == 12 && MotionGate.Settings().cell(forWidth: 100) == 1)
    }
}
