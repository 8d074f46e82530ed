/// A strict RFC 4180 reader, written for the tests so the sink's output is checked by something other
/// than its own writer: quoted fields may hold commas, CR, LF and doubled quotes; records end with CRLF.
enum CSVReader {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var scalars = Array(text.unicodeScalars)[...]
        var atFieldStart = true
        while let c = scalars.popFirst() {
            if atFieldStart && c == "\"" {
                // Quoted field: runs to the closing quote; "" is a quote.
                while true {
                    guard let q = scalars.popFirst() else { throw Malformed(description: "unterminated quoted field") }
                    if q == "\"" {
                        if scalars.first == "\"" { scalars.removeFirst(); field.unicodeScalars.append("\"") } else { break }
                    } else {
                        field.unicodeScalars.append(q)
                    }
                }
                atFieldStart = false
                guard let next = scalars.first, next == "," || next == "\r" else {
                    if scalars.isEmpty { continue }
                    throw Malformed(description: "text after a closing quote")
                }
                continue
            }
            switch c {
            case ",":
                record.append(field); field = ""; atFieldStart = true
            case "\r":
                guard scalars.popFirst() == "\n" else { throw Malformed(description: "CR without LF") }
                record.append(field); field = ""; atFieldStart = true
                records.append(record); record = []
            case "\n":
                throw Malformed(description: "bare LF ends a record")
            case "\"":
                throw Malformed(description: "quote inside an unquoted field")
            default:
                field.unicodeScalars.append(c); atFieldStart = false
            }
        }
        guard record.isEmpty && field.isEmpty else { throw Malformed(description: "last record not ended by CRLF") }
        return records
    }
}
