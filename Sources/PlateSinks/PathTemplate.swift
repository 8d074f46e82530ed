public import Foundation
public import PlateCore

/// A file path with placeholders, expanded per event: `events/$(camera)/%Y-%m-%d.jsonl` gives one file per
/// camera per day.
///
/// Placeholders: `$(camera)` (camera id), `$(track)` (track number), `$(event)` (`EventIdentifier`), and the
/// strftime directives `%Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %F %T %s %%` plus Python's `%f`
/// (microseconds). Dates are formatted in the given time zone with the C locale's names, whatever the
/// process locale. Anything else after `%` or inside `$(...)` is rejected when the template is made,
/// so a typo fails at start-up rather than producing odd file names.
public struct PathTemplate: Sendable, Hashable, CustomStringConvertible {
    private enum Token: Sendable, Hashable {
        case literal(String)
        case camera, track, event
        case directive(Character)
    }

    /// The template as written.
    public let template: String
    private let tokens: [Token]

    private static let directives: Set<Character> = ["Y", "y", "m", "d", "e", "H", "I", "M", "S", "p", "j", "a", "A",
                                                     "b", "B", "F", "T", "s", "f"]

    /// Parses a template; throws `SinkError.invalidConfiguration` for an unknown directive or placeholder.
    public init(_ template: String) throws {
        guard !template.isEmpty else { throw SinkError.invalidConfiguration("empty path template") }
        var tokens: [Token] = []
        var literal = ""
        var index = template.startIndex
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)); literal = "" }
        }
        while index < template.endIndex {
            let character = template[index]
            if character == "%" {
                let next = template.index(after: index)
                guard next < template.endIndex else {
                    throw SinkError.invalidConfiguration("path template \(template): '%' at the end")
                }
                let directive = template[next]
                if directive == "%" {
                    literal.append("%")
                } else if Self.directives.contains(directive) {
                    flush()
                    tokens.append(.directive(directive))
                } else {
                    throw SinkError.invalidConfiguration("path template \(template): unknown directive %\(directive)")
                }
                index = template.index(after: next)
            } else if template[index...].hasPrefix("$(") {
                guard let close = template[index...].firstIndex(of: ")") else {
                    throw SinkError.invalidConfiguration("path template \(template): '$(' without ')'")
                }
                let name = template[template.index(index, offsetBy: 2)..<close]
                flush()
                switch name {
                case "camera": tokens.append(.camera)
                case "track": tokens.append(.track)
                case "event": tokens.append(.event)
                default: throw SinkError.invalidConfiguration("path template \(template): unknown placeholder $(\(name))")
                }
                index = template.index(after: close)
            } else {
                literal.append(character)
                index = template.index(after: index)
            }
        }
        flush()
        self.template = template
        self.tokens = tokens
    }

    /// Whether the path depends on the camera.
    public var usesCamera: Bool { tokens.contains(.camera) }

    /// The path for one event: its camera, track and identifier, and its wall-clock time in `timeZone`.
    public func path(for event: TrackEvent, timeZone: TimeZone) -> String {
        path(camera: event.cameraID, date: event.timestamp, timeZone: timeZone,
             track: event.trackID, eventID: EventIdentifier.make(for: event))
    }

    /// The path for the given values; a missing track or event identifier expands to nothing.
    ///
    /// Substituted values cannot add directories: `/` becomes `_` and a value of `.` or `..` becomes `_`.
    public func path(camera: CameraID, date: Date, timeZone: TimeZone, track: TrackID? = nil, eventID: String? = nil) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        var seconds = micros / 1_000_000
        if micros % 1_000_000 < 0 { seconds -= 1 }
        // Calendar fields from the whole second (exact in a Double), so %S and %f never disagree.
        let second = Date(timeIntervalSince1970: TimeInterval(seconds))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: second)
        var out = ""
        for token in tokens {
            switch token {
            case .literal(let text): out += text
            case .camera: out += Self.safe(camera.rawValue)
            case .track: out += track.map { String($0.rawValue) } ?? ""
            case .event: out += Self.safe(eventID ?? "")
            case .directive(let d): out += Self.format(d, parts, micros: micros, calendar: calendar, date: second)
            }
        }
        return out
    }

    /// The template.
    public var description: String { template }

    private static func safe(_ value: String) -> String {
        if value == "." || value == ".." { return "_" }
        return String(value.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
    }

    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"]

    private static func format(_ directive: Character, _ c: DateComponents, micros: Int64, calendar: Calendar, date: Date) -> String {
        func pad(_ value: Int?, _ width: Int, _ fill: Character = "0") -> String {
            let digits = String(value ?? 0)
            return String(repeating: fill, count: max(0, width - digits.count)) + digits
        }
        let hour = c.hour ?? 0
        switch directive {
        case "Y": return pad(c.year, 4)
        case "y": return pad((c.year ?? 0) % 100, 2)
        case "m": return pad(c.month, 2)
        case "d": return pad(c.day, 2)
        case "e": return pad(c.day, 2, " ")
        case "H": return pad(hour, 2)
        case "I": return pad(hour % 12 == 0 ? 12 : hour % 12, 2)
        case "M": return pad(c.minute, 2)
        case "S": return pad(c.second, 2)
        case "p": return hour < 12 ? "AM" : "PM"
        case "j": return pad(calendar.ordinality(of: .day, in: .year, for: date), 3)
        case "a": return String(weekdays[((c.weekday ?? 1) - 1) % 7].prefix(3))
        case "A": return weekdays[((c.weekday ?? 1) - 1) % 7]
        case "b": return String(months[((c.month ?? 1) - 1) % 12].prefix(3))
        case "B": return months[((c.month ?? 1) - 1) % 12]
        case "F": return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
        case "T": return pad(hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2)
        case "s": return String(Int64((Double(micros) / 1_000_000).rounded(.down)))
        case "f":
            var fraction = micros % 1_000_000
            if fraction < 0 { fraction += 1_000_000 }
            return pad(Int(fraction), 6)
        default: return ""
        }
    }
}
