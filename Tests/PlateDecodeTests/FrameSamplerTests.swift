import Testing
import PlateCore
import PlateDecode

/// The sampler's decisions over a 25 fps timeline (frame k at k/25 s).
@Suite struct FrameSamplerTests {
    private func kept(_ sampler: FrameSampler, frames: Int, fps: Int64 = 25) -> [Int] {
        var sampler = sampler
        return (0..<frames).filter { sampler.keep(at: MediaTime(value: Int64($0), timescale: fps)) }
    }

    @Test func keepsEverythingByDefault() {
        #expect(kept(FrameSampler(), frames: 10) == Array(0..<10))
    }

    @Test func keepsEveryNthFrameStartingWithTheFirst() {
        #expect(kept(FrameSampler(every: 5), frames: 23) == [0, 5, 10, 15, 20])
        #expect(kept(FrameSampler(every: 1), frames: 3) == [0, 1, 2])
    }

    @Test func capsTheRateOnAGridAnchoredAtTheFirstFrame() {
        // 25 fps capped at 5: exactly every 5th frame (the slot boundaries fall on frames).
        #expect(kept(FrameSampler(maxFPS: 5), frames: 26) == [0, 5, 10, 15, 20, 25])
        // 25 fps capped at 10: the first frame of each 0.1 s slot, 10 per second on average.
        let tenPerSecond = kept(FrameSampler(maxFPS: 10), frames: 50)
        #expect(tenPerSecond == [0, 3, 5, 8, 10, 13, 15, 18, 20, 23, 25, 28, 30, 33, 35, 38, 40, 43, 45, 48])
        // 25 fps capped at 1: one per second.
        #expect(kept(FrameSampler(maxFPS: 1), frames: 76) == [0, 25, 50, 75])
    }

    @Test func aCapAboveTheStreamRateKeepsEveryFrame() {
        #expect(kept(FrameSampler(maxFPS: 30), frames: 20) == Array(0..<20))
        #expect(kept(FrameSampler(maxFPS: 25), frames: 20) == Array(0..<20))
    }

    @Test func combinesEveryNthWithTheCap() {
        // Every 2nd frame (12.5 fps), then at most 5 per second: 0, 6, 10, 16, 20, ...
        #expect(kept(FrameSampler(every: 2, maxFPS: 5), frames: 31) == [0, 6, 10, 16, 20, 26, 30])
    }

    @Test func startsANewGridWhenTimeGoesBackwards() {
        var sampler = FrameSampler(maxFPS: 1)
        // A live source restarted its clock after 10.5 s: the first frame after is kept, and the cap
        // applies from it.
        let decisions = [10, 10.5, 0, 0.5, 1].map { sampler.keep(at: MediaTime(seconds: $0)) }
        #expect(decisions == [true, false, true, false, true])
    }

    @Test func worksOnExactNonDecimalTimeBases() {
        // 30000/1001 fps (NTSC) on a 90 kHz clock, capped at 10: about every third frame, never two in a slot.
        var sampler = FrameSampler(maxFPS: 10)
        var slots = Set<Int>()
        for k in 0..<300 {
            let time = MediaTime(value: Int64(k) * 3003, timescale: 90_000)
            let keep = sampler.keep(at: time)
            if keep {
                let slot = Int((time.seconds * 10).rounded(.down))
                #expect(!slots.contains(slot))
                slots.insert(slot)
            }
        }
        #expect(slots.count == 100)
    }
}
