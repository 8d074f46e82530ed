import ArgumentParser
import Foundation

/// Which of the configuration's cameras this node runs, and the node's name in the shared database.
///
/// - `--shard K/N` (K from 0 to N-1): the cameras at positions K, K+N, K+2N ... of the configuration's
///   `cameras` list (counted over every listed camera, active or not, so deactivating one moves no other).
///   Stable: the same list gives every node the same cameras on every start. The node is `shard-K-of-N`.
/// - `--shard-from-hostname N`: `--shard K/N` with K the number after the host name's last `-` (a
///   Kubernetes StatefulSet pod `platestream-2` is shard 2). The node is the host name.
/// - `--node NAME`: the cameras the configuration's `nodes` maps NAME to. The node is NAME.
/// - none: every camera; the node is the host name.
struct CameraShard: Equatable {
    /// The node's name in the health rows.
    var node: String
    /// The selection: nil for every camera.
    var selection: Selection?

    /// How cameras are picked.
    enum Selection: Equatable {
        case shard(index: Int, count: Int)
        case named([String])
    }

    /// Parses `K/N`.
    static func parse(shard text: String) throws -> (Int, Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(k) else {
            throw ValidationError("--shard \(text): expected K/N with N >= 1 and 0 <= K < N, e.g. 0/3")
        }
        return (k, n)
    }

    /// The shard number at the end of a host name (`platestream-2` → 2).
    static func ordinal(ofHostname hostname: String) throws -> Int {
        guard let dash = hostname.lastIndex(of: "-"), let ordinal = Int(hostname[hostname.index(after: dash)...]), ordinal >= 0 else {
            throw ValidationError("--shard-from-hostname: host name \"\(hostname)\" does not end in -NUMBER (a StatefulSet pod's ordinal)")
        }
        return ordinal
    }

    /// The shard the options ask for; `nodes` is the configuration's node map.
    static func resolve(shard: String?, shardFromHostname count: Int?, node: String?, nodes: [String: [String]]?,
                        hostname: String = ProcessInfo.processInfo.hostName) throws -> CameraShard {
        guard [shard != nil, count != nil, node != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("give at most one of --shard, --shard-from-hostname and --node")
        }
        if let shard {
            let (k, n) = try parse(shard: shard)
            return CameraShard(node: "shard-\(k)-of-\(n)", selection: .shard(index: k, count: n))
        }
        if let count {
            guard count >= 1 else { throw ValidationError("--shard-from-hostname must be 1 or more") }
            let k = try ordinal(ofHostname: hostname)
            guard k < count else {
                throw ValidationError("--shard-from-hostname \(count): host name \(hostname) is shard \(k), past the last (\(count - 1))")
            }
            return CameraShard(node: hostname, selection: .shard(index: k, count: count))
        }
        if let node {
            guard let cameras = nodes?[node] else {
                let known = (nodes ?? [:]).keys.sorted()
                throw ValidationError("--node \(node): the configuration's nodes has no such node"
                                      + (known.isEmpty ? " (it has no nodes section)" : " (it has \(known.joined(separator: ", ")))"))
            }
            return CameraShard(node: node, selection: .named(cameras))
        }
        return CameraShard(node: hostname, selection: nil)
    }

    /// The cameras of `all` (the configuration's list, in order) this node runs; unknown names are an error.
    func cameras<C>(of all: [C], id: (C) -> String) throws -> [C] {
        switch selection {
        case nil: return all
        case .shard(let k, let n): return all.enumerated().filter { $0.offset % n == k }.map(\.element)
        case .named(let names):
            let ids = Set(all.map(id))
            for name in names where !ids.contains(name) {
                throw ConfigError("nodes.\(node): no camera \"\(name)\" in cameras")
            }
            let wanted = Set(names)
            return all.filter { wanted.contains(id($0)) }
        }
    }
}
