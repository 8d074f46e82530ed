import Foundation
public import PlateCore

/// Writes each event as one line of Plate Recognizer JSON (config key `jsonlines_file`).
///
/// The path may hold `$(camera)` and strftime directives (`events/$(camera)/%Y-%m-%d.jsonl`: one file per
/// camera per day); the file rolls over when an event's formatted path changes. Files and directories are
/// created as needed, always appended to, never truncated, and each line goes to the kernel before
/// `deliver` returns, so a crash loses nothing already delivered.
public final class JSONLinesEventSink: ImageAwareEventSink, @unchecked Sendable {
    /// Configuration of this sink: path template, base directory, JSON format and time zones, fsync.
    public typealias Configuration = FileSinkConfiguration

    /// The stable config key of this sink.
    public static let configKey = "jsonlines_file"

    /// The configuration.
    public let configuration: Configuration
    // Why a lock although the pipeline calls a sink from one thread at a time: that thread need not be
    // the same every time, and `shutdown` may come from another one.
    private let lock = NSLock()
    private let files: RollingFiles
    private var isShutDown = false

    /// A sink; opens nothing until the first event.
    public init(configuration: Configuration) {
        self.configuration = configuration
        self.files = RollingFiles(template: configuration.path, format: configuration.format,
                                  baseDirectory: configuration.baseDirectory)
    }

    /// Appends the event's line; `images.filename` becomes the JSON's `filename`. A Version-1 sink skips
    /// vehicles without a plate, which that shape cannot express.
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        guard let json = configuration.format.jsonValue(for: event, filename: images.filename) else { return }
        let line = Array((json.serialized() + "\n").utf8)
        try lock.withLock {
            guard !isShutDown else { throw SinkError.closed("JSON Lines sink") }
            let file = try files.file(for: event).file
            try file.append(line)
            if configuration.syncEachEvent { try file.sync() }
        }
    }

    /// Closes the files.
    public func shutdown() {
        lock.withLock {
            isShutDown = true
            files.closeAll()
        }
    }
}
