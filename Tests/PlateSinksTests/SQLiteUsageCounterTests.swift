import Testing
import Foundation
@testable import PlateSinks

@Suite struct SQLiteUsageCounterTests {
    @Test func reservesWithinTheLimitAndSurvivesReopening() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let counter = try SQLiteUsageCounter(path: path)
            #expect(try counter.reserve(account: "a", month: "2026-11", cost: 2, limit: 3) == 2)
            #expect(try counter.reserve(account: "a", month: "2026-11", cost: 2, limit: 3) == nil)   // would be 4 > 3
            #expect(try counter.reserve(account: "a", month: "2026-11", cost: 1, limit: 3) == 3)
            #expect(try counter.reserve(account: "b", month: "2026-11", cost: 5, limit: nil) == 5)
            try counter.release(account: "a", month: "2026-11", cost: 10)
            #expect(try counter.calls(account: "a", month: "2026-11") == 0)
            #expect(try counter.reserve(account: "a", month: "2026-11", cost: 1, limit: 3) == 1)
        }
        let reopened = try SQLiteUsageCounter(path: path)
        #expect(try reopened.calls(account: "a", month: "2026-11") == 1)
        #expect(try reopened.calls(account: "b", month: "2026-11") == 5)
        #expect(try reopened.calls(account: "a", month: "2026-12") == 0)
    }

    @Test func concurrentReservationsNeverExceedTheLimit() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let counter = try SQLiteUsageCounter(path: path)
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { (try? counter.reserve(account: "x", month: "2026-11", cost: 1, limit: 7)) != nil } }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        #expect(granted == 7)
        #expect(try counter.calls(account: "x", month: "2026-11") == 7)
    }
}
