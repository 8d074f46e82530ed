public import Foundation

/// Configuration of a file sink (`jsonlines_file`, `csv_file`): where it writes and how it formats.
///
/// Paths, rollover, appending and per-event flushing work the same for both file sinks, so they share it.
public struct FileSinkConfiguration: Sendable, Equatable {
    /// The path template, relative to `baseDirectory` unless absolute; may hold `$(camera)` and strftime codes.
    public var path: PathTemplate
    /// Directory relative paths are resolved against; nil: the working directory.
    public var baseDirectory: String?
    /// JSON version and time zones (CSV uses only the time zones: its columns are fixed).
    public var format: EventJSONFormat
    /// `fsync` after every event: survives power loss too, at the cost of a disk flush per event.
    public var syncEachEvent: Bool

    /// A configuration.
    public init(path: PathTemplate, baseDirectory: String? = nil, format: EventJSONFormat = EventJSONFormat(),
                syncEachEvent: Bool = false) {
        self.path = path
        self.baseDirectory = baseDirectory
        self.format = format
        self.syncEachEvent = syncEachEvent
    }
}
