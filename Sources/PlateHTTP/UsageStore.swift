public import Foundation

/// A calendar month in UTC: the period monthly call limits count over.
public struct UsageMonth: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The year, e.g. 2024.
    public var year: Int
    /// The month, 1...12.
    public var month: Int

    /// A month.
    public init(year: Int, month: Int) {
        precondition((1...12).contains(month), "month out of range")
        self.year = year
        self.month = month
    }

    /// The month (UTC) that `date` falls in.
    public init(containing date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: date)
        self.init(year: parts.year!, month: parts.month!)
    }

    /// The month after this one.
    public var next: UsageMonth { month == 12 ? UsageMonth(year: year + 1, month: 1) : UsageMonth(year: year, month: month + 1) }

    /// Midnight UTC on the first day of the month.
    public var start: Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: 1))!
    }

    /// `2024-05`: the key a store may file the month under.
    public var description: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }

    /// Earlier months first.
    public static func < (lhs: UsageMonth, rhs: UsageMonth) -> Bool { (lhs.year, lhs.month) < (rhs.year, rhs.month) }
}

/// Where calls are counted, per account and month, so that monthly limits survive restarts.
///
/// The production store is SQLite; this module defines the contract and an in-memory store for
/// tests. Each method must be atomic with respect to the others, across processes sharing the store:
/// `reserve` in particular is one `UPDATE … SET calls = calls + :cost WHERE calls + :cost <= :limit`,
/// never a read followed by a write.
public protocol UsageStore: Sendable {
    /// Calls counted for `account` in `month` (0 when none).
    func calls(account: String, month: UsageMonth) async throws -> Int
    /// Adds `cost` calls when that keeps the count within `limit` (nil: no limit) and returns the
    /// new count; returns nil, counting nothing, when it would not.
    func reserve(account: String, month: UsageMonth, cost: Int, limit: Int?) async throws -> Int?
    /// Takes back `cost` calls reserved for a call that then failed (never below 0).
    func release(account: String, month: UsageMonth, cost: Int) async throws
}

/// A `UsageStore` in memory: for tests, and for a server that may forget its counts on restart.
public actor InMemoryUsageStore: UsageStore {
    private var counts: [String: [UsageMonth: Int]] = [:]

    /// An empty store.
    public init() {}

    /// Calls counted for `account` in `month`.
    public func calls(account: String, month: UsageMonth) -> Int { counts[account]?[month] ?? 0 }

    /// Adds `cost` calls unless that would pass `limit`.
    public func reserve(account: String, month: UsageMonth, cost: Int, limit: Int?) -> Int? {
        let current = calls(account: account, month: month)
        if let limit, current + cost > limit { return nil }
        counts[account, default: [:]][month] = current + cost
        return current + cost
    }

    /// Takes back `cost` calls.
    public func release(account: String, month: UsageMonth, cost: Int) {
        counts[account, default: [:]][month] = max(0, calls(account: account, month: month) - cost)
    }
}
