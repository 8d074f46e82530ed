import Foundation
import Testing
@testable import platestream

/// Which cameras `run --shard`, `--shard-from-hostname` and `--node` pick, and the mistakes they refuse.
@Suite struct ShardingConfigTests {
    let all = ["a", "b", "c", "d", "e", "f", "g"]

    func pick(shard: String? = nil, hostname count: Int? = nil, host: String = "box", node: String? = nil,
              nodes: [String: [String]]? = nil) throws -> (String, [String]) {
        let shard = try CameraShard.resolve(shard: shard, shardFromHostname: count, node: node, nodes: nodes, hostname: host)
        return (shard.node, try shard.cameras(of: all, id: { $0 }))
    }

    @Test func shardsSplitTheListByPositionAndCoverItOnce() throws {
        let parts = try (0..<3).map { try pick(shard: "\($0)/3") }
        #expect(parts.map(\.0) == ["shard-0-of-3", "shard-1-of-3", "shard-2-of-3"])
        #expect(parts.map(\.1) == [["a", "d", "g"], ["b", "e"], ["c", "f"]])
        #expect(try pick(shard: "0/1").1 == all)
        #expect(try pick().1 == all)
        #expect(try pick().0 == "box")
    }

    @Test func theHostnameOrdinalIsTheShard() throws {
        #expect(try pick(hostname: 3, host: "platestream-2") == ("platestream-2", ["c", "f"]))
        #expect(try pick(hostname: 2, host: "alpr-node-0") == ("alpr-node-0", ["a", "c", "e", "g"]))
    }

    @Test func aNamedNodeRunsItsListedCameras() throws {
        let nodes = ["gate-box": ["b", "a"], "yard": ["g"]]
        #expect(try pick(node: "gate-box", nodes: nodes) == ("gate-box", ["a", "b"]))
    }

    @Test func mistakesAreRefusedClearly() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try pick(shard: "3/3") }.contains("0 <= K < N"))
        #expect(message { try pick(shard: "1-3") }.contains("expected K/N"))
        #expect(message { try pick(hostname: 3, host: "platestream") }.contains("does not end in -NUMBER"))
        #expect(message { try pick(hostname: 3, host: "platestream-5") }.contains("past the last"))
        #expect(message { try pick(node: "x", nodes: ["gate": ["a"]]) }.contains("has no such node (it has gate)"))
        #expect(message { try pick(node: "gate", nodes: ["gate": ["zz"]]) }.contains("no camera \"zz\""))
        #expect(message { try pick(shard: "0/2", node: "gate") }.contains("at most one"))
    }

    @Test func theNodesSectionIsValidatedByTheSchema() throws {
        let ok = try AppConfig.parse(Data("""
            {"cameras": [{"id": "a", "url": "a.mp4"}], "nodes": {"gate-box": ["a"]}, "database": "postgres://u@h/db"}
            """.utf8), source: "t.json")
        #expect(ok.nodes == ["gate-box": ["a"]])
        #expect(throws: (any Error).self) {
            try AppConfig.parse(Data(#"{"cameras": [{"id": "a", "url": "a.mp4"}], "nodes": {"x": "a"}}"#.utf8), source: "t.json")
        }
    }
}
