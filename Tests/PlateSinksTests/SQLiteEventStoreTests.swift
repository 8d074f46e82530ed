import Foundation
import GRDB
import PlateCore
import PlateSinks
import Testing

@Suite struct SQLiteEventStoreTests {
    @Test func roundTripsEveryField() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("db/events.sqlite"), format: Fixture.utcFormat))
        let event = Fixture.event()
        try store.deliver(event, images: EventImages(filename: "camera-1_screenshots/x.jpg"))
        let id = EventIdentifier.make(for: event)

        let stored = try #require(try store.event(id: id))
        #expect(stored.id == id)
        #expect(stored.cameraID == "camera-1")
        #expect(stored.trackID == TrackID(1))
        #expect(abs(stored.timestamp.timeIntervalSince(event.timestamp)) < 0.000_001)
        #expect(stored.plate == "HDB167A")
        #expect(stored.plateScore == 0.908)
        #expect(stored.detectionScore == 0.888)
        #expect(stored.region == "us-pa")
        #expect(stored.regionScore == 0.079)
        #expect(stored.vehicleType == "Sedan")
        #expect(stored.vehicleScore == 0.688)
        #expect(stored.vehicleColor == "white")
        #expect(stored.direction == 345)
        #expect(stored.positionSeconds == 11.14)
        #expect(stored.sourceURL == "/user-data/video.mp4")
        #expect(stored.filename == "camera-1_screenshots/x.jpg")
        #expect(stored.reason == "trackEnded")
        let json = try JSONDecoder().decode(StreamEventV2.self, from: Data(stored.json.utf8))
        #expect(json == StreamEventV2(event: event, filename: "camera-1_screenshots/x.jpg", timeZone: TimeZone(identifier: "UTC")!))

        // The same event again is stored once.
        try store.deliver(event)
        #expect(try store.count(matching: EventQuery()) == 1)
        #expect(try store.event(id: "no-such-id") == nil)
    }

    /// Found by scripts/fuzz (event-store): a column holding a value of another type stopped the process.
    @Test func aRowWithAWrongTypedValueIsAnErrorNotAStop() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.sqlite")
        let store = try SQLiteEventStore(configuration: .init(path: path))
        let event = Fixture.event()
        try store.deliver(event)
        // Damage the row from outside, as a hand edit or another program could.
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "UPDATE event SET plate_score = 'AB123CD'") }
        for read in [{ _ = try store.events(matching: EventQuery()) }, { _ = try store.event(id: EventIdentifier.make(for: event)) }] {
            do {
                try read()
                Issue.record("a damaged row was read")
            } catch let error as SinkError {
                #expect(error.message.contains("cannot be read") && error.message.contains("plate_score"), "\(error.message)")
            }
        }
        #expect(try store.count(matching: EventQuery()) == 1)
    }

    /// Found by scripts/fuzz (event-store): a long `similar` text expanded into ~70 neighbours per character.
    @Test func aLongSimilarSearchLooksUpOnlyItself() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        try store.deliver(Fixture.event())
        // 5000 characters: 350 000 neighbours of 5000 characters each before (gigabytes, then SQLite's
        // "too many SQL variables"); now one lookup that finds nothing.
        let long = String(repeating: "HDB167A", count: 715)
        #expect(try store.events(matching: EventQuery(plate: .similar(long))).isEmpty)
        #expect(try store.count(matching: EventQuery(plate: .similar(long))) == 0)
        #expect(try store.count(matching: EventQuery(plate: .similar("HDB167B"))) == 1, "short texts still find one-edit neighbours")
    }

    @Test func persistsAcrossReopening() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.sqlite")
        do {
            let store = try SQLiteEventStore(configuration: .init(path: path))
            for event in Fixture.events(3) { try store.deliver(event) }
            store.shutdown()
        }
        let reopened = try SQLiteEventStore(configuration: .init(path: path))
        #expect(try reopened.count(matching: EventQuery()) == 3)
        // WAL mode, as DatabasePool sets it.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func queries() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        let t0 = Fixture.utc(2024, 5, 1, 12)
        let specs: [(plate: String?, camera: CameraID, offset: Double)] = [
            ("ABC123", "gate", 0), ("ABC128", "gate", 10), ("ABD123", "yard", 20), ("XYZ999", "yard", 30),
            (nil, "gate", 40), ("ABC123", "yard", 50), ("QABC12", "gate", 60),
        ]
        for (index, spec) in specs.enumerated() {
            try store.deliver(Fixture.event(plate: spec.plate, camera: spec.camera, track: index + 1, at: t0.addingTimeInterval(spec.offset)))
        }
        func plates(_ query: EventQuery) throws -> [String] {
            try store.events(matching: query).map { $0.plate ?? "-" }
        }

        // Newest first.
        #expect(try plates(EventQuery()) == ["QABC12", "ABC123", "-", "XYZ999", "ABD123", "ABC128", "ABC123"])
        #expect(try plates(EventQuery(cameraID: "yard")) == ["ABC123", "XYZ999", "ABD123"])
        #expect(try plates(EventQuery(plate: .exact("abc-123"))) == ["ABC123", "ABC123"])
        #expect(try plates(EventQuery(cameraID: "gate", plate: .exact("ABC123"))) == ["ABC123"])
        #expect(try plates(EventQuery(plate: .prefix("ABC"))) == ["ABC123", "ABC128", "ABC123"])
        #expect(try plates(EventQuery(plate: .contains("BC12"))) == ["QABC12", "ABC123", "ABC128", "ABC123"])
        // One edit from ABC123: ABC128 (substitution), ABD123 (substitution), not QABC12 (two edits).
        #expect(try plates(EventQuery(plate: .fuzzy("ABC123", maxDistance: 1))) == ["ABC123", "ABD123", "ABC128", "ABC123"])
        #expect(try plates(EventQuery(plate: .fuzzy("ABC123", maxDistance: 2))).contains("QABC12"))
        #expect(try plates(EventQuery(plate: .fuzzy("ABC123", maxDistance: 0))) == ["ABC123", "ABC123"])
        // Half-open time range [from, to).
        #expect(try plates(EventQuery(from: t0.addingTimeInterval(10), to: t0.addingTimeInterval(40))) == ["XYZ999", "ABD123", "ABC128"])
        // Paging.
        #expect(try plates(EventQuery(limit: 2)) == ["QABC12", "ABC123"])
        #expect(try plates(EventQuery(limit: 2, offset: 2)) == ["-", "XYZ999"])
        #expect(try store.count(matching: EventQuery(plate: .prefix("AB"))) == 4)

        // Retention.
        #expect(try store.deleteEvents(before: t0.addingTimeInterval(30)) == 3)
        #expect(try store.count(matching: EventQuery()) == 4)
    }

    @Test func queriesWhileTheWriterWrites() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        let events = Fixture.events(200)
        let writer = Task.detached {
            for event in events { try store.deliver(event) }
        }
        // Readers run alongside the writer (WAL): each sees a consistent count that only grows.
        var last = 0
        let finished = try await poll(every: .milliseconds(1)) {
            let count = try store.count(matching: EventQuery())
            #expect(count >= last)
            last = count
            return count == events.count
        }
        try await writer.value
        #expect(finished)
    }
}
