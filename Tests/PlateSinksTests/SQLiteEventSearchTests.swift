import Foundation
import GRDB
import PlateCore
import PlateSinks
import Testing

@Suite struct SQLiteEventSearchTests {
    @Test("similar: folded O/0, I/1, B/8 and one edit, newest first, within a time range; exact text is not required")
    func similarSearch() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        let t0 = Fixture.utc(2024, 5, 1, 12)
        let plates: [String?] = ["ABC1234", "A8C1234", "ABC1284", "ABC123", "XABC1234", "ABD1Z34", "XYZ9876", nil, "ABC12345"]
        for (index, plate) in plates.enumerated() {
            try store.deliver(Fixture.event(plate: plate, track: index + 1, at: t0.addingTimeInterval(Double(index))))
        }
        func found(_ query: EventQuery) throws -> [String] { try store.events(matching: query).map { $0.plate ?? "-" } }

        // ABC1234 folds to A8C1234; A8C1234 is the same folded; ABC1284, ABC123, XABC1234 and ABC12345 are one edit;
        // ABD1Z34 folds to A801234 (B/8, D/0 and Z/2 fold): one edit (0 for C) away too. XYZ9876 is far.
        #expect(try found(EventQuery(plate: .similar("abc-1234")))
                == ["ABC12345", "ABD1Z34", "XABC1234", "ABC123", "ABC1284", "A8C1234", "ABC1234"])
        // Typed with an O for the 0 and an I for the 1: the same answer.
        #expect(try found(EventQuery(plate: .similar("XYZ9876"))) == ["XYZ9876"])
        #expect(try found(EventQuery(plate: .similar("XY29B76"))) == ["XYZ9876"])
        #expect(try found(EventQuery(plate: .similar("XYZ98"))).isEmpty, "two characters off")
        #expect(try found(EventQuery(plate: .similar("ABC1234"), from: t0.addingTimeInterval(1), to: t0.addingTimeInterval(3)))
                == ["ABC1284", "A8C1234"])
    }

    @Test("pictures are stored per event and kind, listed, and removed with their events")
    func pictures() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteEventStore(configuration: .init(path: directory.file("events.sqlite")))
        let event = Fixture.event(at: Fixture.utc(2024, 5, 1, 12))
        try store.deliver(event)
        let id = EventIdentifier.make(for: event)
        try store.storeImages(eventID: id, [.plate: Data([0xFF, 0xD8, 1]), .vehicle: Data([0xFF, 0xD8, 2])])
        #expect(try store.image(eventID: id, kind: .plate) == Data([0xFF, 0xD8, 1]))
        #expect(try store.image(eventID: id, kind: .vehicle) == Data([0xFF, 0xD8, 2]))
        #expect(try store.image(eventID: "other", kind: .plate) == nil)
        #expect(try store.imageKinds(eventIDs: [id, "other"]) == [id: [.plate, .vehicle]])
        #expect(try store.deleteEvents(before: Fixture.utc(2024, 5, 2, 0)) == 1)
        #expect(try store.image(eventID: id, kind: .plate) == nil)
    }

    @Test("a database of the first schema gains the folded plates of its events when opened")
    func migratesOldDatabases() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("old.sqlite")
        // The first schema's table and migration record, as an older PlateStream left them.
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('events-v1');
                CREATE TABLE event (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
                    camera_id TEXT NOT NULL, track_id INTEGER NOT NULL, timestamp_us INTEGER NOT NULL, plate TEXT,
                    plate_score REAL, detection_score REAL, region TEXT, region_score REAL, vehicle_type TEXT,
                    vehicle_score REAL, vehicle_color TEXT, direction INTEGER, position_sec REAL NOT NULL,
                    source_url TEXT NOT NULL, filename TEXT, reason TEXT NOT NULL, json TEXT NOT NULL);
                INSERT INTO event (event_id, camera_id, track_id, timestamp_us, plate, position_sec, source_url, reason, json)
                    VALUES ('e1', 'gate', 1, 1000, 'SOB123', 0, 'x', 'trackEnded', '{}');
                """)
        }
        try queue.close()
        let store = try SQLiteEventStore(configuration: .init(path: path))
        #expect(try store.events(matching: EventQuery(plate: .similar("508I23"))).map(\.id) == ["e1"])
    }
}
