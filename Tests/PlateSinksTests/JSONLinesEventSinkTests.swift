import Foundation
import PlateCore
import PlateSinks
import Testing

@Suite struct JSONLinesEventSinkTests {
    private func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    @Test func writesVersion2OneObjectPerLineAndParsesBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate("events.jsonl"), baseDirectory: directory.path,
                                                           format: Fixture.utcFormat))
        let events = [Fixture.event(), Fixture.event(plate: nil, track: 2), Fixture.event(plate: "AB12CD", track: 3, vehicle: false)]
        for event in events { try sink.deliver(event) }
        try sink.deliver(events[0], images: EventImages(filename: "camera-1_screenshots/a.jpg"))
        sink.shutdown()

        let written = lines(try directory.read("events.jsonl"))
        #expect(written.count == 4)
        let decoded = try written.map { try JSONDecoder().decode(StreamEventV2.self, from: Data($0.utf8)) }
        for (line, event) in zip(decoded, events) {
            #expect(line == StreamEventV2(event: event, filename: nil, timeZone: TimeZone(identifier: "UTC")!))
        }
        // The exact text is the ordered writer's, one line each.
        #expect(written[0] == StreamEventV2(event: events[0], filename: nil, timeZone: TimeZone(identifier: "UTC")!).jsonValue.serialized())
        #expect(decoded[0].results[0].plate?.props.plate.first?.value == "hdb167a")
        #expect(decoded[1].results[0].plate == nil)
        #expect(decoded[1].results[0].vehicle?.type == "Sedan")
        #expect(decoded[3].filename == "camera-1_screenshots/a.jpg")
    }

    @Test func rollsOverAcrossADateBoundaryAndSplitsByCamera() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate("events/$(camera)/%Y-%m-%d.jsonl"),
                                                           baseDirectory: directory.path, format: Fixture.utcFormat))
        let beforeMidnight = Fixture.utc(2024, 2, 28, 23, 59, 59.9)
        let afterMidnight = Fixture.utc(2024, 2, 29, 0, 0, 0.1)
        try sink.deliver(Fixture.event(plate: "AAA111", camera: "gate", track: 1, at: beforeMidnight))
        try sink.deliver(Fixture.event(plate: "BBB222", camera: "yard", track: 1, at: beforeMidnight))
        try sink.deliver(Fixture.event(plate: "CCC333", camera: "gate", track: 2, at: afterMidnight))
        // A late event of the old day goes back to that day's file.
        try sink.deliver(Fixture.event(plate: "DDD444", camera: "gate", track: 3, at: beforeMidnight))
        sink.shutdown()

        func plates(_ name: String) throws -> [String] {
            try lines(directory.read(name)).map {
                try JSONDecoder().decode(StreamEventV2.self, from: Data($0.utf8)).results[0].plate!.props.plate[0].value
            }
        }
        #expect(try plates("events/gate/2024-02-28.jsonl") == ["aaa111", "ddd444"])
        #expect(try plates("events/gate/2024-02-29.jsonl") == ["ccc333"])
        #expect(try plates("events/yard/2024-02-28.jsonl") == ["bbb222"])
        #expect(!directory.exists("events/yard/2024-02-29.jsonl"))
    }

    @Test func appendsAndNeverTruncates() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = JSONLinesEventSink.Configuration(path: try PathTemplate("out.jsonl"), baseDirectory: directory.path)
        let first = JSONLinesEventSink(configuration: configuration)
        try first.deliver(Fixture.event(track: 1))
        // Written through before shutdown: a crash now would lose nothing.
        #expect(lines(try directory.read("out.jsonl")).count == 1)
        first.shutdown()
        let second = JSONLinesEventSink(configuration: configuration)
        try second.deliver(Fixture.event(track: 2))
        second.shutdown()
        #expect(lines(try directory.read("out.jsonl")).count == 2)
    }

    @Test func repairsATornLastLineBeforeAppending() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Data("{\"camera_id\":\"cut short".utf8).write(to: URL(fileURLWithPath: directory.file("out.jsonl")))
        let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate("out.jsonl"), baseDirectory: directory.path))
        try sink.deliver(Fixture.event())
        sink.shutdown()
        let written = lines(try directory.read("out.jsonl"))
        #expect(written.count == 2)
        #expect((try? JSONDecoder().decode(StreamEventV2.self, from: Data(written[1].utf8))) != nil)
    }

    @Test func version1SkipsVehiclesWithoutPlates() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = JSONLinesEventSink(configuration: .init(
            path: try PathTemplate("v1.jsonl"), baseDirectory: directory.path,
            format: EventJSONFormat(version: .v1, timeZone: TimeZone(identifier: "UTC")!)))
        try sink.deliver(Fixture.event(plate: nil))
        try sink.deliver(Fixture.event(plate: "XYZ987", track: 2))
        sink.shutdown()
        let written = lines(try directory.read("v1.jsonl"))
        #expect(written.count == 1)
        let decoded = try JSONDecoder().decode(StreamEventV1.self, from: Data(written[0].utf8))
        #expect(decoded.results[0].plate == "xyz987")
    }

    @Test func refusesEventsAfterShutdown() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate("x.jsonl"), baseDirectory: directory.path))
        sink.shutdown()
        #expect(throws: SinkError.self) { try sink.deliver(Fixture.event()) }
    }
}
