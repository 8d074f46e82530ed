import Foundation
import PlateCore
import PlateSinks
import PlateTesting
import Testing

@Suite struct EventFanoutTests {
    final class FailingSink: EventSink, @unchecked Sendable {
        struct Broken: Error {}
        func deliver(_ event: TrackEvent) throws { throw Broken() }
        func shutdown() {}
    }

    final class PlainSink: EventSink, @unchecked Sendable {
        private let lock = NSLock()
        private var delivered: [TrackEvent] = []
        private var closed = false
        var events: [TrackEvent] { lock.withLock { delivered } }
        var isShutDown: Bool { lock.withLock { closed } }
        func deliver(_ event: TrackEvent) throws { lock.withLock { delivered.append(event) } }
        func shutdown() { lock.withLock { closed = true } }
    }

    static let fakeJPEG: JPEGEncoder = { image in Data("FAKEJPEG \(image.width)x\(image.height)".utf8) }

    @Test func savesTheFrameAndEverySinkNamesTheSameFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let utc = TimeZone(identifier: "UTC")!
        let writer = EventImageWriter(
            configuration: .init(directory: directory.file("images"), savePlateCrop: true, timeZone: utc),
            encodeJPEG: Self.fakeJPEG)
        let jsonl = JSONLinesEventSink(configuration: .init(path: try PathTemplate("events.jsonl"), baseDirectory: directory.path,
                                                            format: Fixture.utcFormat))
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        let plain = PlainSink()
        let fanout = EventFanout(sinks: [jsonl, store, plain], imageWriter: writer)
        let event = Fixture.event()
        let frame = SyntheticImage.make(width: 640, height: 600)

        try fanout.deliver(event, images: EventImages(frame: frame, event: event))
        fanout.shutdown()

        // Stream's own layout by default: <camera>_screenshots/<yy-mm-dd>/<HH-MM-SS.micro>.jpg
        let name = "camera-1_screenshots/21-07-31/13-53-36.169692.jpg"
        #expect(try directory.read("images/" + name) == "FAKEJPEG 640x600")
        #expect(try directory.read("images/camera-1_screenshots/21-07-31/13-53-36.169692_plate.jpg").hasPrefix("FAKEJPEG "))
        let line = try directory.read("events.jsonl").split(separator: "\n")[0]
        #expect(try JSONDecoder().decode(StreamEventV2.self, from: Data(line.utf8)).filename == name)
        #expect(try store.event(id: EventIdentifier.make(for: event))?.filename == name)
        #expect(plain.events == [event])
        #expect(plain.isShutDown)
    }

    @Test func oneFailingSinkDoesNotStopTheOthers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plain = PlainSink()
        let fanout = EventFanout(sinks: [FailingSink(), plain])
        #expect(throws: SinkError.self) { try fanout.deliver(Fixture.event()) }
        #expect(plain.events.count == 1)
    }

    @Test func cropsFollowTheEventsBoxes() {
        let frame = SyntheticImage.make(width: 200, height: 100, color: .white)
        let event = Fixture.event(vehicle: false)   // plate box 49,455-116,491 lies outside a 200x100 frame
        let images = EventImages(frame: frame, event: event, padding: 0)
        #expect(images.plateCrop == nil)
        #expect(images.vehicleCrop == nil)
        var inside = Fixture.event()
        inside.plate!.bestRead.box = BoundingBox(xmin: 10, ymin: 20, xmax: 50, ymax: 40)
        let crop = EventImages(frame: frame, event: inside, padding: 0).plateCrop
        #expect(crop?.width == 40 && crop?.height == 20)
        #expect(crop?.pixel(x: 0, y: 0) == [255, 255, 255])
    }
}
