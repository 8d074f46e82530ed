import Foundation
import PlateCore
import PlatePipeline
import PlateSinks

/// Adapts one PlateSinks sink to the pipeline: keeps only the events of its cameras, names the saved
/// best frame (`filename`) and cuts the crops when the sink wants them.
///
/// Why one adapter per sink rather than `EventFanout`: each registration gets its own queue in the
/// pipeline, so a slow sink (a full disk, a locked database) holds up only itself.
final class RunEventSink: PipelineSink {
    private let sink: any ImageAwareEventSink
    private let cameras: Set<CameraID>?
    private let naming: ImageNaming
    private let wantsCrops: Bool

    /// Wraps `sink`; `cameras` nil: every camera.
    init(_ sink: any ImageAwareEventSink, cameras: Set<CameraID>?, naming: ImageNaming, wantsCrops: Bool = false) {
        self.sink = sink
        self.cameras = cameras
        self.naming = naming
        self.wantsCrops = wantsCrops
    }

    func deliver(_ delivery: EventDelivery) throws {
        let event = delivery.event
        if let cameras, !cameras.contains(event.cameraID) { return }
        var images: EventImages
        if let frame = delivery.bestFrame {
            images = wantsCrops ? EventImages(frame: frame, event: event) : EventImages(frame: frame)
        } else {
            images = EventImages()
        }
        images.filename = naming.filename(for: event, hasFrame: delivery.bestPicture != nil)
        try sink.deliver(event, images: images)
    }

    func shutdown() { sink.shutdown() }
}

/// Saves each event's best frame (and crops) with one camera group's `EventImageWriter`.
final class RunImageSink: PipelineSink {
    private let writer: EventImageWriter
    private let cameras: Set<CameraID>

    /// Saves the images of `cameras`' events.
    init(_ writer: EventImageWriter, cameras: Set<CameraID>) {
        self.writer = writer
        self.cameras = cameras
    }

    func deliver(_ delivery: EventDelivery) throws {
        guard cameras.contains(delivery.event.cameraID), let frame = delivery.bestFrame else { return }
        _ = try writer.save(delivery.event, images: EventImages(frame: frame, event: delivery.event))
    }

    func shutdown() {}
}

/// The file name each camera's saved best frame gets, so that every sink can put the same `filename` in
/// its output without waiting for the image sink (the name is a pure function of the event).
struct ImageNaming: Sendable {
    /// Per camera: the image writer's configuration, for cameras that save the frame.
    var writers: [CameraID: EventImageWriter.Configuration] = [:]

    /// The saved frame's name relative to the image directory, or nil when none is saved for this event.
    func filename(for event: TrackEvent, hasFrame: Bool) -> String? {
        guard hasFrame, let configuration = writers[event.cameraID], configuration.saveFrame else { return nil }
        return configuration.path.path(for: event, timeZone: configuration.timeZone)
    }
}

/// Prints each event as one line of JSON on standard output, written straight to the file descriptor
/// (no buffering in the process), so a consumer reading the pipe sees each event as it happens.
final class StandardOutputEventSink: PipelineSink {
    private let format: EventJSONFormat
    private let naming: ImageNaming

    /// A sink writing `format`'s JSON.
    init(format: EventJSONFormat, naming: ImageNaming) {
        self.format = format
        self.naming = naming
    }

    func deliver(_ delivery: EventDelivery) throws {
        let filename = naming.filename(for: delivery.event, hasFrame: delivery.bestPicture != nil)
        guard let json = format.jsonValue(for: delivery.event, filename: filename) else { return }
        try writeAll(Array((json.serialized() + "\n").utf8), to: STDOUT_FILENO)
    }

    func shutdown() {}
}

/// Writes every byte to `fd`, retrying short writes and EINTR.
func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
    try bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SinkError.io("write", path: fd == STDOUT_FILENO ? "<stdout>" : "fd \(fd)", errno: errno)
            }
            offset += written
        }
    }
}

/// Writes `text` to standard error at once (unbuffered).
func printError(_ text: String) {
    try? writeAll(Array(text.utf8), to: STDERR_FILENO)
}
