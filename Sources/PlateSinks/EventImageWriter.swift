public import Foundation
public import PlateCore

/// Saves an event's best frame (and optionally its crops) as JPEG files, named by a path template.
///
/// The frame's name, relative to `directory`, becomes the events' `filename`; `EventFanout` calls this
/// before the other sinks so that every output names the same file. Stream's own layout is the default:
/// `$(camera)_screenshots/%y-%m-%d/%H-%M-%S.%f.jpg`.
public final class EventImageWriter: Sendable {
    /// Configuration of the image writer.
    public struct Configuration: Sendable, Equatable {
        /// The directory images go under.
        public var directory: String
        /// Name of the frame's file under `directory`; crops add `_vehicle` / `_plate` before the extension.
        public var path: PathTemplate
        /// Save the whole best frame.
        public var saveFrame: Bool
        /// Save the vehicle crop too.
        public var saveVehicleCrop: Bool
        /// Save the plate crop too.
        public var savePlateCrop: Bool
        /// Time zone of the dates in names.
        public var timeZone: TimeZone

        /// A configuration.
        public init(directory: String, path: PathTemplate? = nil, saveFrame: Bool = true, saveVehicleCrop: Bool = false,
                    savePlateCrop: Bool = false, timeZone: TimeZone = .current) {
            self.directory = directory
            // The literal is valid; `try!` cannot fail.
            self.path = path ?? (try! PathTemplate("$(camera)_screenshots/%y-%m-%d/%H-%M-%S.%f.jpg"))
            self.saveFrame = saveFrame
            self.saveVehicleCrop = saveVehicleCrop
            self.savePlateCrop = savePlateCrop
            self.timeZone = timeZone
        }
    }

    /// Where each picture of one event was saved (names relative to the directory).
    public struct SavedImages: Sendable, Hashable {
        /// The frame's file.
        public var frame: String?
        /// The vehicle crop's file.
        public var vehicleCrop: String?
        /// The plate crop's file.
        public var plateCrop: String?
    }

    /// The configuration.
    public let configuration: Configuration
    private let encodeJPEG: JPEGEncoder

    /// A writer that encodes with `encodeJPEG` (the CLI passes `ImageCodec.encodeJPEG`).
    public init(configuration: Configuration, encodeJPEG: @escaping JPEGEncoder) {
        self.configuration = configuration
        self.encodeJPEG = encodeJPEG
    }

    /// Saves the pictures the configuration asks for and the event has; each file is written whole under a
    /// temporary name and renamed, so a reader never sees half a JPEG.
    public func save(_ event: TrackEvent, images: EventImages) throws -> SavedImages {
        let name = configuration.path.path(for: event, timeZone: configuration.timeZone)
        var saved = SavedImages()
        if configuration.saveFrame, let frame = images.frame {
            try write(frame, to: name)
            saved.frame = name
        }
        if configuration.saveVehicleCrop, let crop = images.vehicleCrop {
            let cropName = Self.suffixed(name, "_vehicle")
            try write(crop, to: cropName)
            saved.vehicleCrop = cropName
        }
        if configuration.savePlateCrop, let crop = images.plateCrop {
            let cropName = Self.suffixed(name, "_plate")
            try write(crop, to: cropName)
            saved.plateCrop = cropName
        }
        return saved
    }

    private func write(_ image: Image, to name: String) throws {
        let jpeg: Data
        do {
            jpeg = try encodeJPEG(image)
        } catch {
            throw SinkError.encoding("JPEG encoding of \(name) failed: \(error)")
        }
        let path = (configuration.directory as NSString).appendingPathComponent(name)
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try jpeg.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SinkError.io("cannot write image (\(error.localizedDescription))", path: path)
        }
    }

    private static func suffixed(_ name: String, _ suffix: String) -> String {
        let ext = (name as NSString).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        return stem + suffix + (ext.isEmpty ? "" : "." + ext)
    }
}

/// The sink the pipeline talks to: saves the event's images (when configured), then hands the event and
/// the saved frame's name to every sink. One failing sink does not keep the event from the others.
public final class EventFanout: ImageAwareEventSink {
    private let sinks: [any EventSink]
    private let imageWriter: EventImageWriter?
    // Guards nothing but ordering: the sinks are called from one thread at a time, as they expect.
    private let lock = NSLock()

    /// A fan-out to `sinks`, in order, saving images with `imageWriter` first.
    public init(sinks: [any EventSink], imageWriter: EventImageWriter? = nil) {
        self.sinks = sinks
        self.imageWriter = imageWriter
    }

    /// Saves the images, then delivers to every sink; throws `SinkError.multiple` (after trying them all)
    /// when any failed. An image that cannot be saved does not stop the event: it goes without `filename`.
    public func deliver(_ event: TrackEvent, images: EventImages) throws {
        try lock.withLock {
            var images = images
            var errors: [any Error] = []
            if let imageWriter {
                do {
                    images.filename = try imageWriter.save(event, images: images).frame
                } catch {
                    errors.append(error)
                }
            }
            for sink in sinks {
                do {
                    try sink.deliver(event, imagesIfWanted: images)
                } catch {
                    errors.append(error)
                }
            }
            if !errors.isEmpty { throw SinkError.multiple(errors) }
        }
    }

    /// Shuts every sink down.
    public func shutdown() {
        lock.withLock {
            for sink in sinks { sink.shutdown() }
        }
    }
}
