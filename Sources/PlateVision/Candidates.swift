import Foundation

/// The alternatives a reader gives for one character position, most likely first.
public struct CharacterAlternatives: Sendable, Equatable {
    /// (character, probability) pairs sorted by descending probability.
    public let choices: [(character: Character, probability: Float)]

    /// Keeps the given choices, sorted by descending probability.
    public init(_ choices: [(character: Character, probability: Float)]) {
        self.choices = choices.sorted { $0.probability > $1.probability }
    }

    /// The most likely character and its probability.
    public var best: (character: Character, probability: Float) { choices[0] }

    /// Compares the choices pairwise.
    public static func == (lhs: CharacterAlternatives, rhs: CharacterAlternatives) -> Bool {
        lhs.choices.count == rhs.choices.count
            && zip(lhs.choices, rhs.choices).allSatisfy { $0.character == $1.character && $0.probability == $1.probability }
    }
}

/// A plate text hypothesis and its confidence.
public struct TextCandidate: Sendable, Equatable {
    /// The text, upper case.
    public var text: String
    /// Confidence in 0...1: the product of the chosen characters' probabilities.
    public var score: Float
    /// Creates a candidate.
    public init(text: String, score: Float) {
        self.text = text
        self.score = score
    }
}

/// Builds the N most likely strings from per-position alternatives (OpenALPR's top-N), best first.
public enum CandidateCombiner {
    /// The `n` highest-scoring combinations, taking at most `perPosition` alternatives of each position and
    /// ignoring alternatives below `minProbability`. Exact k-best enumeration: a max-heap over index
    /// vectors where each popped vector pushes its successors (one index bumped, at or after the last
    /// bumped position, so each vector is generated once).
    public static func topN(_ positions: [CharacterAlternatives], n: Int, perPosition: Int = 6,
                            minProbability: Float = 0.001) -> [TextCandidate] {
        guard n > 0, !positions.isEmpty else { return [] }
        let options: [[(character: Character, probability: Float)]] = positions.map { alternatives in
            let kept = alternatives.choices.prefix(perPosition).filter { $0.probability >= minProbability }
            return kept.isEmpty ? [alternatives.best] : Array(kept)
        }
        struct Node { var indices: [Int]; var lastBumped: Int; var logScore: Float }
        func logScore(_ indices: [Int]) -> Float {
            zip(options, indices).reduce(0) { $0 + log(max($1.0[$1.1].probability, 1e-12)) }
        }
        var heap = BinaryHeap<Node> { $0.logScore > $1.logScore }
        let start = [Int](repeating: 0, count: options.count)
        heap.push(Node(indices: start, lastBumped: 0, logScore: logScore(start)))
        var result: [TextCandidate] = []
        while result.count < n, let node = heap.pop() {
            let text = String(zip(options, node.indices).map { $0.0[$0.1].character })
            result.append(TextCandidate(text: text, score: exp(node.logScore)))
            for position in node.lastBumped..<options.count where node.indices[position] + 1 < options[position].count {
                var next = node.indices
                next[position] += 1
                heap.push(Node(indices: next, lastBumped: position, logScore: logScore(next)))
            }
        }
        return result
    }
}

/// A binary heap ordered by `areInIncreasingPriority(a, b)` = a comes out before b.
struct BinaryHeap<Element> {
    private var items: [Element] = []
    private let before: (Element, Element) -> Bool

    init(_ before: @escaping (Element, Element) -> Bool) { self.before = before }

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < items.count, before(items[left], items[first]) { first = left }
            if right < items.count, before(items[right], items[first]) { first = right }
            if first == parent { break }
            items.swapAt(parent, first)
            parent = first
        }
        return top
    }
}
