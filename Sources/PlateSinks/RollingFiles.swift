import Foundation
import PlateCore

/// The open files of a templated-path sink: which file each camera currently writes, opening the next one
/// when an event's formatted path changes (a new day, a new hour) and closing files no camera writes any more.
///
/// Paths come from the event's own timestamp, not the clock, so an event lands in the file of its time even
/// when it is delivered a little later (a track that ends just after midnight), and tests need no clock.
final class RollingFiles {
    private let template: PathTemplate
    private let format: EventJSONFormat
    private let baseDirectory: String?
    private var files: [String: AppendOnlyFile] = [:]
    private var currentPath: [CameraID: String] = [:]

    init(template: PathTemplate, format: EventJSONFormat, baseDirectory: String?) {
        self.template = template
        self.format = format
        self.baseDirectory = baseDirectory
    }

    /// The file for an event, opened if need be; `opened` is true when it was opened by this call.
    func file(for event: TrackEvent) throws -> (file: AppendOnlyFile, opened: Bool) {
        var path = template.path(for: event, timeZone: format.timeZone(for: event.cameraID))
        if let baseDirectory, !path.hasPrefix("/") { path = (baseDirectory as NSString).appendingPathComponent(path) }
        let previous = currentPath.updateValue(path, forKey: event.cameraID)
        if let previous, previous != path, !currentPath.values.contains(previous) {
            files[previous] = nil   // closes it
        }
        if let open = files[path] { return (open, false) }
        let file = try AppendOnlyFile(path: path)
        files[path] = file
        return (file, true)
    }

    /// The paths open now.
    var openPaths: [String] { Array(files.keys).sorted() }

    /// Closes every file.
    func closeAll() {
        files.removeAll()
        currentPath.removeAll()
    }
}
