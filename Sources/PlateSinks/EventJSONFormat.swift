public import Foundation
public import PlateCore

/// Which of Plate Recognizer Stream's JSON shapes a sink writes.
public enum StreamJSONVersion: Int, Sendable, CaseIterable {
    /// The flat shape: results like snapshot results (`StreamEventV1`). Cannot express a vehicle without a plate.
    case v1 = 1
    /// The default: each result holds an optional `plate` and an optional `vehicle` (`StreamEventV2`).
    case v2 = 2
}

/// How the sinks turn an event into Plate Recognizer JSON: the version and the time zone of `timestamp_local`.
public struct EventJSONFormat: Sendable, Equatable {
    /// The shape to write.
    public var version: StreamJSONVersion
    /// Time zone of `timestamp_local` for cameras not in `cameraTimeZones`.
    public var timeZone: TimeZone
    /// Per-camera time zones, for cameras somewhere else than the server.
    public var cameraTimeZones: [CameraID: TimeZone]

    /// A format; by default Version 2 in the server's time zone.
    public init(version: StreamJSONVersion = .v2, timeZone: TimeZone = .current, cameraTimeZones: [CameraID: TimeZone] = [:]) {
        self.version = version
        self.timeZone = timeZone
        self.cameraTimeZones = cameraTimeZones
    }

    /// The time zone of a camera.
    public func timeZone(for camera: CameraID) -> TimeZone { cameraTimeZones[camera] ?? timeZone }

    /// The event's JSON object; nil when the version cannot express it (Version 1 and no plate),
    /// in which case the sink skips the event, as Stream does with Version 1.
    public func jsonValue(for event: TrackEvent, filename: String?) -> JSONValue? {
        let zone = timeZone(for: event.cameraID)
        switch version {
        case .v2: return StreamEventV2(event: event, filename: filename, timeZone: zone).jsonValue
        case .v1: return StreamEventV1(event: event, filename: filename, timeZone: zone)?.jsonValue
        }
    }
}

/// The stable identifier of an event: the idempotency key of its webhook deliveries and its key in the event store.
///
/// Derived from what identifies the passage (camera, track number, best frame, first-seen time), so the same
/// event always gets the same identifier, in this process or after a restart. For a live source (RTSP, HTTP,
/// a device, a pipe) also its wall-clock time to the microsecond: track numbers restart from 1 with the
/// process, and the time keeps a later passage from colliding with an earlier one. For a file, the file's
/// path instead: a file processed again (a node killed and restarted, a shard moved) yields the same passages
/// at the same positions, so they get the same identifiers and a store keyed by them keeps each once.
public enum EventIdentifier {
    /// A UUID-shaped (version 8, "custom") hexadecimal string, e.g. `3f2a9c1e-7b44-8d10-9e2f-0a1b2c3d4e5f`:
    /// ASCII only, so it is safe in an HTTP header whatever the camera's name.
    public static func make(for event: TrackEvent) -> String {
        let replayable = SourceURL.kind(of: event.sourceURL) == .file
        let micros = Int64((event.timestamp.timeIntervalSince1970 * 1_000_000).rounded())
        let key = [
            event.cameraID.rawValue, String(event.trackID.rawValue), String(event.bestFrameIndex),
            replayable ? "file:" + event.sourceURL : String(micros),
            String(event.firstSeen.value), String(event.firstSeen.timescale),
        ].joined(separator: "\u{1F}")
        let bytes = Array(key.utf8)
        // Two FNV-1a passes with different offset bases, each finished with SplitMix64's mixer:
        // not cryptographic (nobody forges these), but 128 well-spread bits from nothing but the stdlib.
        var high = mix(fnv1a(bytes, basis: 0xcbf2_9ce4_8422_2325))
        var low = mix(fnv1a(bytes.reversed(), basis: 0x84_2222_325c_bf29))
        high = (high & ~0xF000) | 0x8000                                  // version 8
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000      // RFC 9562 variant
        let h = hex(high, 16), l = hex(low, 16)
        let hc = Array(h), lc = Array(l)
        return String(hc[0..<8]) + "-" + String(hc[8..<12]) + "-" + String(hc[12..<16]) + "-"
            + String(lc[0..<4]) + "-" + String(lc[4..<16])
    }

    private static func fnv1a<S: Sequence<UInt8>>(_ bytes: S, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    private static func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: width - digits.count) + digits
    }
}
