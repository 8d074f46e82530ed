import Foundation
import PlateCore
import Testing
@testable import PlateTracking

@Suite struct PlateTrackerTests {
    // MARK: One vehicle

    @Test func oneVehicleCrossingGivesExactlyOneEvent() throws {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<30, degrees: 0, speed: 400, text: { _ in "ABC1234" })
        let outputs = scenario.run(frameCount: 60)

        let event = try #require(outputs.events.only)
        #expect(event.plate?.text == "ABC1234")
        #expect(event.plate?.readCount == 30)
        #expect(event.direction == 0)
        #expect(event.reason == .trackEnded)
        #expect(event.frameCount == 30)
        #expect(event.cameraID == Scenario.camera)
        #expect(event.sourceURL == "/user-data/video.mp4")
        #expect(event.firstSeen == scenario.time(ofFrame: 0))
        #expect(event.lastSeen == scenario.time(ofFrame: 29))
        // Reported once the track has been unseen for more than `lostTimeout` (1.5 s), not at the flush.
        let reportedAt = try #require(outputs.frame(ofEventFor: event.trackID))
        #expect(reportedAt > 29 && reportedAt <= 29 + 16)
        #expect(outputs.filter { if case .started = $0.output { true } else { false } }.count == 1)
        #expect(outputs.filter { if case .ended = $0.output { true } else { false } }.count == 1)
    }

    @Test(arguments: [0.0, 90, 180, 270, 30, 45, 135, 225, 300, 345])
    func directionOfTravel(degrees: Double) throws {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<25, degrees: degrees, speed: 300, text: { _ in "DIR4567" })
        let event = try #require(scenario.run(frameCount: 50).events.only)
        let direction = try #require(event.direction)
        #expect(angularDistance(direction, degrees) <= 1, "got \(direction)° for \(degrees)°")
        #expect((0..<360).contains(direction))
    }

    @Test func aPlateBoxedTwiceInOneFrameIsOneSightingNotASecondTrack() throws {
        // Issue 17: a plate moving up the picture, boxed twice in two frames (boxes overlapping by IoU ~0.7). The
        // second box used to start a track of its own, reported after one sighting with no direction, and the
        // real track's event was then suppressed as a repeat of it.
        var scenario = Scenario()
        scenario.crossing(frames: 0..<30, degrees: 90, speed: 300, text: { _ in "UPW4567" })
        for frame in [6, 20] {
            let box = try #require(scenario.plates[frame]?.first?.box)
            scenario.add(PlateRead(text: "UPW4567", score: 0.97, detectionScore: 0.8, box: box.offsetBy(dx: 4, dy: 6)),
                         atFrame: frame)
        }
        let outputs = scenario.run(frameCount: 60)
        let event = try #require(outputs.events.only)
        #expect(outputs.suppressed.isEmpty)
        #expect(event.frameCount == 30)
        let direction = try #require(event.direction)
        #expect(angularDistance(direction, 90) <= 1, "got \(direction)°")
    }

    @Test func twoPlatesSideBySideInOneFrameStillStartTwoTracks() {
        // The same-plate rule goes by overlap: two vehicles' plates next to each other are two plates.
        var scenario = Scenario()
        scenario.crossing(frames: 0..<20, middle: Point(x: 900, y: 540), degrees: 0, speed: 300, text: { _ in "AAA1111" })
        scenario.crossing(frames: 0..<20, middle: Point(x: 1040, y: 540), degrees: 0, speed: 300, text: { _ in "BBB2222" })
        #expect(scenario.run(frameCount: 40).events.count == 2)
    }

    // MARK: Several vehicles

    @Test func twoVehiclesAtOnceGiveTwoEvents() {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<30, middle: Point(x: 960, y: 300), degrees: 0, speed: 400, text: { _ in "AAA1111" })
        scenario.crossing(frames: 5..<35, middle: Point(x: 960, y: 800), degrees: 180, speed: 400, text: { _ in "BBB2222" })
        let events = scenario.run(frameCount: 60).events

        #expect(events.count == 2)
        let byText = Dictionary(uniqueKeysWithValues: events.compactMap { e in e.plate.map { ($0.text, e) } })
        #expect(byText["AAA1111"]?.direction == 0)
        #expect(byText["BBB2222"]?.direction == 180)
        #expect(byText["AAA1111"]?.plate?.readCount == 30)
        #expect(byText["BBB2222"]?.plate?.readCount == 30)
    }

    @Test func adjacentPlatesDoNotSwapTracks() {
        // Two plates 45 px apart, moving together: close enough for the centre-distance gate,
        // far enough not to overlap. Each track must keep its own plate.
        var scenario = Scenario()
        scenario.crossing(frames: 0..<30, middle: Point(x: 960, y: 500), degrees: 0, speed: 300, text: { _ in "NEAR111" })
        scenario.crossing(frames: 0..<30, middle: Point(x: 960, y: 545), degrees: 0, speed: 300, text: { _ in "NEAR999" })
        let events = scenario.run(frameCount: 60).events

        #expect(events.count == 2)
        #expect(Set(events.compactMap { $0.plate?.text }) == ["NEAR111", "NEAR999"])
        #expect(events.allSatisfy { $0.plate?.readCount == 30 && $0.plate?.candidates.count == 1 })
    }

    // MARK: Timing

    @Test func parkedVehicleIsReportedOnceAtMaxPredictionDelay() throws {
        var scenario = Scenario(fps: 5)
        for index in 0..<300 {  // 60 s, in view the whole time, with a little detector jitter
            let jitter = Double(index % 5) - 2
            let box = BoundingBox(center: Point(x: 700 + jitter, y: 600 - jitter), width: 120, height: 30)
            scenario.add(PlateRead(text: "PARK123", score: 0.9, detectionScore: 0.9, box: box), atFrame: index)
        }
        let outputs = scenario.run(frameCount: 300)

        let event = try #require(outputs.events.only)
        #expect(event.reason == .maxPredictionDelay)
        #expect(outputs.frame(ofEventFor: event.trackID) == 30)  // 6 s at 5 fps
        #expect(event.frameCount == 31)
        #expect(event.direction == nil)
        #expect(outputs.suppressed.isEmpty)
        // The track goes on absorbing frames until the stream ends; it is not reported again.
        #expect(outputs.last?.frame == 300)
        #expect(outputs.last.map { $0.output == .ended(event.trackID) } == true)
    }

    @Test func longTrackIsReportedAtMaxPredictionDelayThenNotAgain() throws {
        var configuration = TrackerConfiguration()
        configuration.maxPredictionDelay = 2
        var scenario = Scenario(configuration: configuration)
        // Every frame reads a little better than the one before: the best frame keeps moving.
        scenario.crossing(frames: 0..<50, degrees: 0, speed: 150, text: { _ in "SLOW123" },
                          score: { 0.5 + Double($0) * 0.005 })
        let outputs = scenario.run(frameCount: 80)

        let event = try #require(outputs.events.only)
        #expect(event.reason == .maxPredictionDelay)
        #expect(outputs.frame(ofEventFor: event.trackID) == 20)
        #expect(event.frameCount == 21)
        #expect(event.bestFrameIndex == 20)
        // After the report no frame is worth keeping for this track any more.
        let changes = outputs.compactMap { if case .bestFrameChanged(_, let f) = $0.output { f } else { nil } }
        #expect(changes == Array(1...20))
        let endedAt = outputs.first { $0.output == .ended(event.trackID) }?.frame
        #expect(endedAt.map { $0 > 49 && $0 < 80 } == true)
    }

    @Test func memoryDecaySuppressesRepeatsThenExpires() {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<20, degrees: 0, speed: 400, text: { _ in "ABC1234" })
        // 150 s later, read with one character wrong: the same plate, suppressed.
        scenario.crossing(frames: 1500..<1520, degrees: 0, speed: 400, text: { _ in "ABC1284" })
        // A different plate meanwhile is reported.
        scenario.crossing(frames: 1600..<1620, degrees: 0, speed: 400, text: { _ in "XYZ9876" })
        // 310 s after the first report: memory expired (the suppressed sighting did not refresh it).
        scenario.crossing(frames: 3100..<3120, degrees: 0, speed: 400, text: { _ in "ABC1234" })
        let outputs = scenario.run(frameCount: 3200)

        #expect(outputs.events.compactMap { $0.plate?.text } == ["ABC1234", "XYZ9876", "ABC1234"])
        #expect(outputs.suppressed == ["ABC1284"])
    }

    @Test func shortGapsAreTolerated() throws {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<40, degrees: 0, speed: 300, text: { _ in "GAP1234" })
        scenario.clear(frames: 12..<19)  // 7 frames, 0.7 s: under both limits
        scenario.clear(frames: 25..<27)
        let event = try #require(scenario.run(frameCount: 70).events.only)
        #expect(event.frameCount == 31)
        #expect(event.direction == 0)
    }

    @Test func aLongGapEndsTheTrackAndTheRepeatIsSuppressed() {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<60, degrees: 0, speed: 200, text: { _ in "GAP1234" })
        scenario.clear(frames: 20..<40)  // 2 s > lostTimeout
        let outputs = scenario.run(frameCount: 90)
        #expect(outputs.events.count == 1)
        #expect(outputs.events.first?.frameCount == 20)
        #expect(outputs.suppressed == ["GAP1234"])
    }

    // MARK: Association

    @Test func fastMoverWithoutOverlapStaysOneTrack() throws {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<7, degrees: 0, speed: 2500, text: { _ in "FAST999" })
        // The premise: consecutive boxes do not overlap at all.
        for index in 0..<6 {
            #expect(scenario.plates[index]![0].box.iou(scenario.plates[index + 1]![0].box) == 0)
        }
        let outputs = scenario.run(frameCount: 30)
        let event = try #require(outputs.events.only)
        #expect(event.plate?.readCount == 7)
        #expect(event.direction == 0)
    }

    @Test func fastMoverWithNoisyReadsStaysOneTrack() throws {
        var rng = SeededGenerator(seed: 7)
        var scenario = Scenario()
        let reads = (0..<7).map { _ in withOneWrongCharacter("FAST999", using: &rng) }
        scenario.crossing(frames: 0..<7, degrees: 180, speed: 2500, text: { reads[$0] })
        let event = try #require(scenario.run(frameCount: 30).events.only)
        #expect(event.plate?.readCount == 7)
        #expect(event.direction == 180)
    }

    @Test func motionPredictionCarriesAFastMoverThroughAGarbageRead() throws {
        // From the third frame on only the predicted box can tell that frame 4's garbage read
        // (nothing like the plate, no overlap with frame 3) is still this vehicle.
        var scenario = Scenario()
        scenario.crossing(frames: 0..<7, degrees: 0, speed: 2500, text: { $0 == 4 ? "W0RD" : "FAST999" })
        let outputs = scenario.run(frameCount: 30)
        let event = try #require(outputs.events.only)
        #expect(event.plate?.readCount == 7)
        #expect(event.plate?.text == "FAST999")
        #expect(event.plate?.candidates.map(\.text).contains("W0RD") == true)
    }

    @Test func aDifferentPlateWhereATrackWasStartsANewTrack() {
        // Car A waits, drives off unseen; car B stops almost where A was (IoU 0.45 with A's box)
        // while A's track is still open. The texts have nothing in common: B is not A.
        var scenario = Scenario()
        for index in 0..<10 {
            scenario.add(PlateRead(text: "AAA1111", score: 0.9, detectionScore: 0.9,
                                   box: BoundingBox(center: Point(x: 800, y: 500), width: 120, height: 30)), atFrame: index)
        }
        for index in 12..<22 {
            scenario.add(PlateRead(text: "BBB2222", score: 0.9, detectionScore: 0.9,
                                   box: BoundingBox(center: Point(x: 830, y: 505), width: 120, height: 30)), atFrame: index)
        }
        let events = scenario.run(frameCount: 50).events
        #expect(events.compactMap { $0.plate?.text } == ["AAA1111", "BBB2222"])
        #expect(events.allSatisfy { $0.plate?.readCount == 10 })
    }

    @Test func mergeBufferJoinsATrackThatJumped() {
        func scenario(mergeBuffer: Double) -> Scenario {
            var scenario = Scenario(configuration: TrackerConfiguration(mergeBuffer: mergeBuffer))
            scenario.crossing(frames: 0..<10, middle: Point(x: 400, y: 500), degrees: 0, speed: 100, text: { _ in "SHAKE12" })
            // 2 s unseen, then the camera shook: the plate comes back 1200 px away.
            scenario.crossing(frames: 30..<40, middle: Point(x: 1600, y: 500), degrees: 0, speed: 100, text: { _ in "SHAKE12" })
            return scenario
        }
        let without = scenario(mergeBuffer: 0).run(frameCount: 70)
        #expect(without.events.count == 1)
        #expect(without.suppressed == ["SHAKE12"])

        let with = scenario(mergeBuffer: 3).run(frameCount: 70)
        #expect(with.events.count == 1)
        #expect(with.events.first?.frameCount == 20)
        #expect(with.suppressed.isEmpty)
    }

    // MARK: Vehicles

    @Test func vehicleWithoutPlateIsReportedOnlyInVehicleMode() throws {
        func scenario(_ mode: TrackerConfiguration.DetectionMode) -> Scenario {
            var scenario = Scenario(configuration: TrackerConfiguration(detectionMode: mode))
            for index in 0..<30 {
                let box = BoundingBox(center: Point(x: 300 + 40 * Double(index), y: 500), width: 400, height: 300)
                scenario.add(VehicleDetection(type: .truck, score: 0.8, box: box), atFrame: index)
            }
            return scenario
        }
        let vehicleMode = scenario(.vehicle).run(frameCount: 60)
        let event = try #require(vehicleMode.events.only)
        #expect(event.plate == nil)
        #expect(event.vehicle?.type == .truck)
        #expect(event.direction == 0)
        #expect(event.frameCount == 30)

        let plateMode = scenario(.plate).run(frameCount: 60)
        #expect(plateMode.isEmpty)
    }

    @Test func unclassifiedBlobsMustMoveAndLastToBeVehicles() throws {
        // A motion detector's blobs (type unknown): a still one (a background ghost fading in place) and a
        // two-frame flicker give nothing; a moving one is a vehicle.
        var scenario = Scenario(configuration: TrackerConfiguration(detectionMode: .vehicle))
        for index in 0..<20 {
            scenario.add(VehicleDetection(type: .unknown, score: 0.6, box: BoundingBox(center: Point(x: 300, y: 300), width: 200, height: 150)),
                         atFrame: index)
        }
        for index in 30..<32 {
            scenario.add(VehicleDetection(type: .unknown, score: 0.6, box: BoundingBox(center: Point(x: 700, y: 950), width: 200, height: 150)),
                         atFrame: index)
        }
        for index in 40..<60 {
            let box = BoundingBox(center: Point(x: 1600 - 40 * Double(index - 40), y: 800), width: 300, height: 200)
            scenario.add(VehicleDetection(type: .unknown, score: 0.7, box: box), atFrame: index)
        }
        let events = scenario.run(frameCount: 80).events
        #expect(events.count == 1)
        #expect(events.first?.direction == 180, "\(events.map { ($0.direction, $0.frameCount, $0.vehicle?.box as Any) })")
        // A classified vehicle that stands still is still reported (a parked car seen by a vehicle model).
        var parked = Scenario(configuration: TrackerConfiguration(detectionMode: .vehicle))
        for index in 0..<20 {
            parked.add(VehicleDetection(type: .car, score: 0.9, box: BoundingBox(center: Point(x: 300, y: 300), width: 200, height: 150)),
                       atFrame: index)
        }
        #expect(parked.run(frameCount: 40).events.count == 1)
    }

    @Test func aPlateCutByTheEdgeJoinsItsTrackWhateverItsPartialText() throws {
        // Entering from the right: first only the plate's left part is in the picture and is read ("WEXC"), a
        // frame is missed, then the whole plate ("WEX3282") shows, its box overlapping the cut one little.
        // One vehicle, one event: a cut plate's text proves nothing about which vehicle it is.
        var scenario = Scenario(configuration: TrackerConfiguration())
        scenario.add(PlateRead(text: "WEXC", score: 0.9, detectionScore: 0.9,
                               box: BoundingBox(xmin: 1800, ymin: 680, xmax: 1920, ymax: 720)), atFrame: 0)
        for index in 2..<20 {
            let box = BoundingBox(center: Point(x: 1760 - 50 * Double(index - 2), y: 700), width: 160, height: 40)
            scenario.add(PlateRead(text: "WEX3282", score: 0.9, detectionScore: 0.9, box: box), atFrame: index)
        }
        let events = scenario.run(frameCount: 40).events
        #expect(events.count == 1, "\(events.map { $0.plate?.text ?? "-" })")
        #expect(events.first?.plate?.text == "WEX3282")
    }

    @Test func plateThatBecomesReadableJoinsItsVehicleTrack() throws {
        var scenario = Scenario(configuration: TrackerConfiguration(detectionMode: .vehicle))
        for index in 0..<30 {
            let center = Point(x: 300 + 40 * Double(index), y: 500)
            scenario.add(VehicleDetection(type: .car, score: 0.8, box: BoundingBox(center: center, width: 400, height: 300)),
                         atFrame: index)
            if (12..<20).contains(index) {  // the plate is legible only in the middle of the passage
                let plate = BoundingBox(center: Point(x: center.x, y: center.y + 100), width: 120, height: 30)
                scenario.add(PlateRead(text: "LATE777", score: 0.9, detectionScore: 0.9, box: plate), atFrame: index)
            }
        }
        let event = try #require(scenario.run(frameCount: 60).events.only)
        #expect(event.plate?.text == "LATE777")
        #expect(event.vehicle?.type == .car)
        #expect(event.frameCount == 30)
        #expect((12..<20).contains(event.bestFrameIndex))
    }

    @Test func plateEventCarriesItsVehicleFromTheBestFrame() throws {
        var scenario = Scenario()
        scenario.crossing(frames: 0..<20, degrees: 0, speed: 300, text: { _ in "CAR1234" },
                          score: { $0 == 8 ? 0.99 : 0.8 }, vehicle: .car)
        let event = try #require(scenario.run(frameCount: 40).events.only)
        let vehicle = try #require(event.vehicle)
        #expect(vehicle.type == .car)
        #expect(vehicle.box == scenario.vehicles[8]![0].box)
        #expect(vehicle.color.first?.label == "white")
        #expect(abs(vehicle.score - 0.8) < 1e-9)
    }

    // MARK: Voting and the best frame

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func consensusBeatsTheBestSingleFrame(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let truth = "7ABC123"
        let reads = (0..<9).map { _ in withOneWrongCharacter(truth, using: &rng) }
        let scores = (0..<9).map { _ in Double.random(in: 0.7...0.95, using: &rng) }
        var scenario = Scenario()
        scenario.crossing(frames: 0..<9, degrees: 0, speed: 300, text: { reads[$0] }, score: { scores[$0] })
        let event = try #require(scenario.run(frameCount: 30).events.only)
        let plate = try #require(event.plate)

        #expect(plate.bestRead.text != truth)  // every single read is wrong...
        #expect(plate.text == truth)           // ...the vote is right
        #expect(plate.candidates.first?.text == truth)
        #expect(plate.bestRead.score == scores.max())
    }

    @Test func aPlateCutByThePictureEdgeIsNotTheBestFrame() throws {
        // A plate leaving at the right edge reads most surely in its last frame, half out of the picture: the
        // event's frame is the best whole plate instead (issue 17's directions scene: position_sec after the
        // plate had left).
        var scenario = Scenario()
        scenario.crossing(frames: 0..<20, middle: Point(x: 1700, y: 540), degrees: 0, speed: 400, text: { _ in "EDG1234" },
                          score: { $0 == 19 ? 0.99 : ($0 == 8 ? 0.95 : 0.85) })
        var last = try #require(scenario.plates[19]?.first)
        last.box = BoundingBox(xmin: last.box.xmin, ymin: last.box.ymin, xmax: Double(Scenario.imageSize.width), ymax: last.box.ymax)
        scenario.plates[19] = [last]
        let event = try #require(scenario.run(frameCount: 40).events.only)
        #expect(event.bestFrameIndex == 8)
    }

    @Test func sureReadsThatDifferByNoiseKeepTheirFrameUntilAClearlyLargerPlate() throws {
        // A sure reader scores every frame of a plate 0.9999x; which of those is highest, or whose box is a pixel
        // larger, depends on where each box's edges fell (the motion gate's windows against the whole picture moved
        // a test event's frame by 3 s between runs). Such frames tie: the first stays the event's frame until a plate
        // clearly larger (5 %) is read as surely.
        var scenario = Scenario()
        scenario.crossing(frames: 0..<20, degrees: 0, speed: 300, text: { _ in "SURE123" },
                          score: { 0.9999 - Double(($0 * 7) % 10) * 0.00002 })
        for (index, grow) in [(5, 1.0), (9, 3.0), (12, 8.0)] {
            var read = try #require(scenario.plates[index]?.first)
            read.box = BoundingBox(xmin: read.box.xmin, ymin: read.box.ymin, xmax: read.box.xmax + grow, ymax: read.box.ymax)
            scenario.plates[index] = [read]
        }
        // Frame 5 is 0.8 % larger and frame 9 2.5 %: noise. Frame 12 is 6.7 % larger.
        let outputs = scenario.run(frameCount: 40)
        let event = try #require(outputs.events.only)
        #expect(event.bestFrameIndex == 12)
        let changes = outputs.compactMap { if case .bestFrameChanged(_, let f) = $0.output { f } else { nil } }
        #expect(changes == [12])
    }

    @Test func positionSecIsTheMediaTimeOfTheBestRead() throws {
        var scenario = Scenario()
        scenario.crossing(frames: 10..<30, degrees: 0, speed: 300, text: { _ in "POS1234" },
                          score: { $0 == 17 ? 0.97 : 0.8 + Double($0 % 3) * 0.01 })
        let outputs = scenario.run(frameCount: 60)
        let event = try #require(outputs.events.only)

        #expect(event.bestFrameIndex == 17)
        #expect(event.bestFrameTime == scenario.time(ofFrame: 17))
        #expect(abs(event.positionSeconds - 1.7) < 1e-12)
        #expect(event.timestamp == Scenario.epoch.addingTimeInterval(1.7))
        #expect(event.plateBox == scenario.plates[17]![0].box)
        // The pipeline was told to keep frame 17's image, and nothing after it.
        let changes = outputs.compactMap { if case .bestFrameChanged(_, let f) = $0.output { f } else { nil } }
        #expect(changes.last == 17)
    }

    @Test func aTimelineRestartClosesTracks() throws {
        var tracker = PlateTracker(cameraID: Scenario.camera, sourceURL: "")
        let plate = PlateRead(text: "RST1234", score: 0.9, detectionScore: 0.9,
                              box: BoundingBox(center: Point(x: 500, y: 500), width: 120, height: 30))
        func observation(_ seconds: Double) -> Observation {
            Observation(cameraID: Scenario.camera, frameIndex: 0, mediaTime: MediaTime(seconds: seconds),
                        wallClock: Scenario.epoch, imageSize: Scenario.imageSize, plates: [plate])
        }
        _ = tracker.handle(observation(100))
        let outputs = tracker.handle(observation(0))
        #expect(outputs.count == 3)  // the old track reported and ended, a new one started
        #expect(outputs.first.map { if case .event(let e) = $0 { e.reason == .endOfStream } else { false } } == true)
        #expect(tracker.activeTrackCount == 1)
    }
}

extension Array {
    /// The single element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
