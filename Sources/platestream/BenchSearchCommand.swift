import ArgumentParser
import Foundation
import PlateCore
import PlatePostgres
import PlateSinks

/// `platestream bench-search` (hidden; `scripts/bench-search` runs it): fills an event store (SQLite, or
/// PostgreSQL given a postgres:// URL) with
/// generated events and times the console's plate search on it: exact, typed with confusable characters
/// (O for 0, I for 1, ...), and one character off, each with and without a time range.
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-search", abstract: "Time the console's plate search over generated events.",
        shouldDisplay: false)

    @Option(help: "Events to generate.")
    var events: Int = 1_000_000

    @Option(help: "Database: a file, sqlite:PATH or postgres://... (default: a new SQLite file in a temporary folder, removed after). Reused when it holds events.")
    var database: String?

    @Option(help: "Searches per kind.")
    var queries: Int = 300

    func validate() throws {
        guard events >= 1000 else { throw ValidationError("--events must be at least 1000") }
        guard queries >= 10 else { throw ValidationError("--queries must be at least 10") }
    }

    func run() throws {
        let temporary = database == nil ? FileManager.default.temporaryDirectory
            .appendingPathComponent("platestream-bench-search-\(UUID().uuidString)") : nil
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let location = try EventDatabaseLocation(parsing: database ?? temporary!.appendingPathComponent("events.db").path)
        let store: any EventStore
        switch location {
        case .sqlite(let path): store = try SQLiteEventStore(configuration: .init(path: path))
        case .postgres(let server): store = try PostgresEventStore(location: server)
        }
        var random = SplitMix64(seed: 14)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), digits = Array("0123456789")
        // Plates in a few shapes (LLLDDDD, LLLDLDD, DDLLDD, LLDDLLL), 200 000 distinct ones so plates recur.
        func plate(_ n: UInt64) -> String {
            var r = SplitMix64(seed: n)
            let shapes = ["LLLDDDD", "LLLDLDD", "DDLLDD", "LLDDLLL"]
            return String(shapes[Int(r.next() % 4)].map { $0 == "L" ? letters[Int(r.next() % 26)] : digits[Int(r.next() % 10)] })
        }
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        let existing = try store.count(matching: EventQuery())
        if existing < events {
            let clock = ContinuousClock.now
            var batch: [StoredEvent] = []
            for index in existing..<events {
                let text = plate(random.next() % 200_000)
                batch.append(StoredEvent(
                    id: "bench-\(index)", cameraID: CameraID("camera-\(index % 4 + 1)"), trackID: TrackID(index),
                    timestamp: start.addingTimeInterval(Double(index) * 2.6), plate: text, plateScore: 0.9,
                    detectionScore: 0.9, region: "br", regionScore: 0.8, vehicleType: "Sedan", vehicleScore: 0.8,
                    vehicleColor: "white", direction: 90, positionSeconds: 0, sourceURL: "bench", filename: nil,
                    reason: "trackEnded", json: "{}"))
                if batch.count == 50_000 || index == events - 1 {
                    try store.insert(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            printError(String(format: "generated %d events in %.1f s\n", events - existing, (ContinuousClock.now - clock).runSeconds))
        }
        let count = try store.count(matching: EventQuery())
        let end = start.addingTimeInterval(Double(count) * 2.6)
        var size = "PostgreSQL"
        if case .sqlite(let path) = location {
            size = "SQLite \(((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_000_000) MB"
        }
        print("bench-search: \(count) events, database \(size), \(queries) searches per kind, 50 results at most")

        let swaps: [Character: Character] = ["0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"]
        let kinds: [(String, (String) -> String)] = [
            ("exact", { $0 }),
            ("folded (O for 0, I for 1, ...)", { String($0.map { swaps[$0] ?? $0 }) }),
            ("one off (a character replaced)", { text in
                var characters = Array(text)
                characters[characters.count / 2] = characters[characters.count / 2] == "X" ? "Y" : "X"
                return String(characters)
            }),
            // A shape the generator never makes (5 letters, 3 digits; K folds to nothing): no plate is one edit away.
            ("absent plate", { _ in "KKKKK" + String(Int.random(in: 100...999)) }),
        ]
        for (name, transform) in kinds {
            for ranged in [false, true] {
                var times: [Double] = []
                var results = 0
                for _ in 0..<queries {
                    let query = transform(plate(random.next() % 200_000))
                    // A week somewhere in the stored span.
                    let from = start.addingTimeInterval(Double(random.next() % UInt64(max(1, end.timeIntervalSince(start)))))
                    let search = EventQuery(plate: .similar(query), from: ranged ? from : nil,
                                            to: ranged ? from.addingTimeInterval(7 * 86400) : nil, limit: 50)
                    let clock = ContinuousClock.now
                    let found = try store.events(matching: search)
                    _ = try store.imageKinds(eventIDs: found.map(\.id))  // as the console's search does
                    times.append((ContinuousClock.now - clock).runSeconds * 1000)
                    results += found.count
                }
                times.sort()
                let label = (name + (ranged ? ", a week" : ", all time")).padding(toLength: 44, withPad: " ", startingAt: 0)
                print("  " + label + String(format: "p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (%.1f results on average)",
                             times[times.count / 2], times[min(times.count - 1, Int(Double(times.count) * 0.99))],
                             times.last!, Double(results) / Double(queries)))
            }
        }
    }
}
