import Foundation

/// An IPv4 or IPv6 address, as resolved for an outgoing fetch or written in configuration.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4, most significant byte first (`10.0.0.1` is `0x0A000001`).
    case v4(UInt32)
    /// IPv6, 16 bytes in network order.
    case v6([UInt8])

    /// Parses dotted-quad IPv4 (exactly four decimal parts, no leading zeros) or IPv6 text
    /// (`::` compression, an IPv4 tail, and a `%zone` suffix, which is dropped).
    public init?(_ text: String) {
        if let v4 = IPAddress.parseV4(Substring(text)) {
            self = .v4(v4)
        } else if let v6 = IPAddress.parseV6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// `10.0.0.1`, `fd00::1` (RFC 5952 shortest form).
    public var description: String {
        switch self {
        case .v4(let value):
            return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
        case .v6(let bytes):
            let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
            // The longest run (length >= 2) of zero groups becomes "::".
            var best = (start: -1, length: 0), i = 0
            while i < 8 {
                guard groups[i] == 0 else { i += 1; continue }
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > best.length { best = (i, j - i) }
                i = j
            }
            let hex = groups.map { String($0, radix: 16) }
            guard best.length >= 2 else { return hex.joined(separator: ":") }
            return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
        }
    }

    /// What kind of address this is, for deciding whether a fetch may go there.
    public var classification: AddressClass {
        switch self {
        case .v4(let a): return IPAddress.classifyV4(a)
        case .v6(let b): return IPAddress.classifyV6(b)
        }
    }

    /// The IPv4 address carried inside an IPv6 one, for the forms that route to it:
    /// IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
    public var embeddedIPv4: UInt32? {
        guard case .v6(let b) = self else { return nil }
        func v4(at i: Int) -> UInt32 { UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]) }
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF { return v4(at: 12) }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, b[4..<12].allSatisfy({ $0 == 0 }) { return v4(at: 12) }
        if b[0] == 0x20, b[1] == 0x02 { return v4(at: 2) }
        return nil
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            // Decimal only, 1-3 digits, no leading zero: "010" means 8 to some parsers and 10 to others.
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let byte = UInt32(part), byte <= 255 else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    static func parseV6(_ input: String) -> [UInt8]? {
        var text = Substring(input)
        if let percent = text.firstIndex(of: "%") {
            guard text.index(after: percent) < text.endIndex else { return nil }
            text = text[..<percent]
        }
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, allowV4Tail, field.contains(".") {
                    guard let v4 = parseV4(field) else { return nil }
                    out += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit), let g = UInt16(field, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowV4Tail: false), let tail = groups(halves[1], allowV4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowV4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func classifyV4(_ a: UInt32) -> AddressClass {
        func inBlock(_ base: UInt32, _ prefix: Int) -> Bool { a >> UInt32(32 - prefix) == base >> UInt32(32 - prefix) }
        // Cloud instance-metadata services: AWS, GCP, Azure, OpenStack, Oracle (169.254.169.254),
        // AWS ECS task metadata (169.254.170.2), Alibaba (100.100.100.200).
        if a == 0xA9FE_A9FE || a == 0xA9FE_AA02 || a == 0x6464_64C8 { return .metadata }
        if inBlock(0x7F00_0000, 8) { return .loopback }
        if inBlock(0x0000_0000, 8) { return .unspecified }
        if inBlock(0x0A00_0000, 8) || inBlock(0xAC10_0000, 12) || inBlock(0xC0A8_0000, 16) { return .private }
        if inBlock(0x6440_0000, 10) { return .private }                // 100.64/10 carrier-grade NAT
        if inBlock(0xA9FE_0000, 16) { return .linkLocal }
        if inBlock(0xE000_0000, 4) { return .multicast }
        if a == 0xFFFF_FFFF { return .broadcast }
        if inBlock(0xF000_0000, 4) || inBlock(0xC000_0000, 24) || inBlock(0xC000_0200, 24) || inBlock(0xC058_6300, 24)
            || inBlock(0xC612_0000, 15) || inBlock(0xC633_6400, 24) || inBlock(0xCB00_7100, 24) {
            return .reserved                                              // IETF, documentation, benchmarking, 240/4
        }
        return .public
    }

    static func classifyV6(_ b: [UInt8]) -> AddressClass {
        if let v4 = IPAddress.v6(b).embeddedIPv4 { return classifyV4(v4) }
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? .loopback : (b[15] == 0 ? .unspecified : .reserved) }
        // AWS's IPv6 instance-metadata endpoint fd00:ec2::254.
        if b == [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] { return .metadata }
        if b[0] & 0xFE == 0xFC { return .private }                       // fc00::/7 unique local
        if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return .linkLocal }        // fe80::/10
        if b[0] == 0xFE, b[1] & 0xC0 == 0xC0 { return .private }          // fec0::/10 site-local (deprecated)
        if b[0] == 0xFF { return .multicast }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return .reserved }         // ::/96 IPv4-compatible (deprecated)
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return .reserved }   // 2001:db8::/32 documentation
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x00, b[3] == 0x00 { return .reserved }   // 2001::/32 Teredo: hides an IPv4 address
        if b[0] == 0x01, b[1] == 0x00, b[2..<8].allSatisfy({ $0 == 0 }) { return .reserved }  // 100::/64 discard
        return .public
    }
}

/// The kinds of address a URL fetch is refused to reach unless the allow-list names them.
public enum AddressClass: String, Sendable, CaseIterable {
    /// Reachable on the internet.
    case `public`
    /// This host (127.0.0.0/8, ::1).
    case loopback
    /// Private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10).
    case `private`
    /// Link-local (169.254/16, fe80::/10).
    case linkLocal = "link-local"
    /// Cloud instance-metadata endpoints (169.254.169.254, fd00:ec2::254, ...): credentials live there.
    case metadata
    /// 0.0.0.0/8 and ::, which reach this host on many systems.
    case unspecified
    /// Multicast.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// Documentation, benchmarking, reserved and tunnelling ranges.
    case reserved

    /// Whether a fetch may reach this kind of address without the allow-list naming it.
    public var isFetchable: Bool { self == .public }
}

/// Addresses and host names a URL fetch may reach even when they are not public.
struct AllowList: Sendable, Equatable {
    /// One entry: a host name, or an address block.
    enum Entry: Sendable, Equatable {
        /// A host name (lower case, no trailing dot): every address it resolves to is allowed.
        case host(String)
        /// An address block: the first `prefix` bits of `address`.
        case block(IPAddress, prefix: Int)

        /// Parses `10.0.0.7`, `10.1.0.0/16`, `fd00::/8`, `[::1]` or `camera.lan`; nil when it is none of them.
        init?(_ text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            guard !trimmed.isEmpty else { return nil }
            let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            let addressText = String(parts[0]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            if let address = IPAddress(addressText) {
                let width = if case .v4 = address { 32 } else { 128 }
                if parts.count == 2 {
                    guard let prefix = Int(parts[1]), (0...width).contains(prefix) else { return nil }
                    self = .block(address, prefix: prefix)
                } else {
                    self = .block(address, prefix: width)
                }
                return
            }
            guard parts.count == 1 else { return nil }
            var host = trimmed
            if host.hasSuffix(".") { host.removeLast() }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            guard !host.isEmpty, host.count <= 253, labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                    && label.first != "-" && label.last != "-"
            }) else { return nil }
            self = .host(host)
        }

        /// Whether `address` lies in this block (false for a host entry).
        func contains(_ address: IPAddress) -> Bool {
            guard case .block(let base, let prefix) = self else { return false }
            switch (base, address) {
            case let (.v4(a), .v4(b)):
                return prefix == 0 || a >> UInt32(32 - prefix) == b >> UInt32(32 - prefix)
            case let (.v6(a), .v6(b)):
                var remaining = prefix
                for i in 0..<16 where remaining > 0 {
                    let bits = min(8, remaining)
                    let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                    if a[i] & mask != b[i] & mask { return false }
                    remaining -= bits
                }
                return true
            case (.v4, .v6):
                // An IPv4-mapped or NAT64 address reaches the IPv4 host: judge it as that host.
                guard let embedded = address.embeddedIPv4 else { return false }
                return contains(.v4(embedded))
            default:
                return false
            }
        }
    }

    /// The entries.
    let entries: [Entry]

    /// An allow-list from configuration text; entries that do not parse are dropped
    /// (`SnapshotServerConfiguration.validate()` refuses them at start-up).
    init(_ texts: [String]) {
        entries = texts.compactMap(Entry.init)
    }

    /// Whether the list names `host` (a host-name entry) or holds `address` (an address entry).
    func allows(host: String, address: IPAddress) -> Bool {
        let name = AllowList.normalizedHost(host)
        return entries.contains { entry in
            if case .host(let allowed) = entry { return allowed == name }
            return entry.contains(address)
        }
    }

    static func normalizedHost(_ host: String) -> String {
        var name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}

/// Host names that are refused before any lookup: they name instance-metadata services on the
/// clouds, whatever they resolve to.
let metadataHostNames: Set<String> = ["metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                                      "instance-data.ec2.internal"]

