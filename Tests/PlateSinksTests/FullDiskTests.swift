import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PlateCore
import PlateSinks
import PlateTesting
import Testing

/// Every file-backed sink on a real, small filesystem (a tmpfs the test mounts; the tests run as root, here
/// and in CI) that fills up: the sink throws a clear error naming the file and the cause, and once space is
/// freed the next event is written and nothing written before is lost.
@Suite("Sinks on a full disk", .serialized)
struct FullDiskTests {
    /// Fills the disk with a filler file after `first` was delivered, delivers events until one fails (there is
    /// often slack in a file's last page), frees the space, and delivers one more. Returns the error and the
    /// events that were written.
    private static func rideAnOutage(on disk: SmallFilesystem, first: (TrackEvent) throws -> Void,
                                     deliver: (TrackEvent) throws -> Void) throws -> (error: any Error, written: [TrackEvent]) {
        let events = Fixture.events(2_001)
        try first(events[0])
        var written = [events[0]]
        try disk.fill()
        var failure: (any Error)?
        for event in events[1..<2_000] {
            do {
                try deliver(event)
                written.append(event)
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "2 000 events went onto a full disk without an error")
        try disk.freeFiller()
        try deliver(events[2_000])
        written.append(events[2_000])
        return (error, written)
    }

    private static func expectClear(_ error: any Error, naming path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = "\(error)"
        #expect(error is SinkError, "\(type(of: error)): \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(path), "\(text)", sourceLocation: sourceLocation)
        #expect(text.contains("No space left on device") || text.contains("disk is full"), "\(text)", sourceLocation: sourceLocation)
    }

    @Test func jsonLinesResumesWithWholeLines() throws {
        let disk = try SmallFilesystem(kilobytes: 512)
        defer { disk.unmount() }
        let sink = JSONLinesEventSink(configuration: .init(path: try PathTemplate("events.jsonl"), baseDirectory: disk.path,
                                                           format: Fixture.utcFormat))
        let (error, written) = try Self.rideAnOutage(on: disk, first: { try sink.deliver($0, images: EventImages()) },
                                                     deliver: { try sink.deliver($0, images: EventImages()) })
        sink.shutdown()
        Self.expectClear(error, naming: disk.file("events.jsonl"))
        let lines = try String(contentsOfFile: disk.file("events.jsonl"), encoding: .utf8).split(separator: "\n")
        // Every event delivered without an error is there as a whole line of JSON, the one after the outage
        // last; a line cut short by the full disk may sit before it, but never glued to it.
        let whole = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }
        for event in written {
            #expect(whole.contains { $0.localizedCaseInsensitiveContains("\"\(event.plate!.text)\"") }, "\(event.plate!.text)")
        }
        #expect(whole.last?.localizedCaseInsensitiveContains("\"\(written.last!.plate!.text)\"") == true)
        #expect(lines.last.map { whole.last == $0 } == true, "the last line is whole")
    }

    @Test func csvResumes() throws {
        let disk = try SmallFilesystem(kilobytes: 512)
        defer { disk.unmount() }
        let sink = CSVEventSink(configuration: .init(path: try PathTemplate("events.csv"), baseDirectory: disk.path,
                                                     format: Fixture.utcFormat))
        let (error, written) = try Self.rideAnOutage(on: disk, first: { try sink.deliver($0, images: EventImages()) },
                                                     deliver: { try sink.deliver($0, images: EventImages()) })
        sink.shutdown()
        Self.expectClear(error, naming: disk.file("events.csv"))
        let text = try String(contentsOfFile: disk.file("events.csv"), encoding: .utf8)
        #expect(text.hasSuffix("\r\n"))
        let rows = text.components(separatedBy: "\r\n").dropLast()
        // Each row whole: as many fields as the header (a torn row would be short or glued to the next).
        let columns = try CSVReader.parse(text)
        #expect(columns.allSatisfy { $0.count == columns[0].count }, "\(rows.map(\.count))")
        let last = try #require(rows.last)
        #expect(last.localizedCaseInsensitiveContains(written.last!.plate!.text), "\(last)")
    }

    @Test func imagesResume() throws {
        let disk = try SmallFilesystem(kilobytes: 512)
        defer { disk.unmount() }
        let writer = EventImageWriter(configuration: .init(directory: disk.file("images"), timeZone: TimeZone(identifier: "UTC")!),
                                      encodeJPEG: { _ in Data(repeating: 0xAB, count: 20_000) })
        let frame = SyntheticImage.make(width: 8, height: 8)
        var saved: [String] = []
        let save = { (event: TrackEvent) throws in
            saved.append(try #require(try writer.save(event, images: EventImages(frame: frame)).frame))
        }
        let (error, _) = try Self.rideAnOutage(on: disk, first: save, deliver: save)
        #expect(error is SinkError && "\(error)".contains(disk.file("images")), "\(error)")
        #expect("\(error)".localizedCaseInsensitiveContains("space"), "\(error)")
        // Whatever was saved is whole (written under a temporary name, then renamed): no half pictures.
        for name in saved {
            let size = (try FileManager.default.attributesOfItem(atPath: disk.file("images/" + name))[.size] as? Int) ?? -1
            #expect(size == 20_000, "\(name): \(size) bytes")
        }
    }

    @Test func sqliteStoreResumesAndKeepsWhatItHad() throws {
        let disk = try SmallFilesystem(kilobytes: 1_024)
        defer { disk.unmount() }
        let store = try SQLiteEventStore(configuration: .init(path: disk.file("events.sqlite"), format: Fixture.utcFormat))
        let (error, written) = try Self.rideAnOutage(on: disk, first: { try store.deliver($0, images: EventImages()) },
                                                     deliver: { try store.deliver($0, images: EventImages()) })
        Self.expectClear(error, naming: disk.file("events.sqlite"))
        // A transaction is all or nothing: exactly the events delivered without an error are stored.
        #expect(try store.count(matching: EventQuery()) == written.count)
        for event in [written.first!, written.last!] {
            #expect(try store.event(id: EventIdentifier.make(for: event)) != nil)
        }
    }

    @Test func webhookOutboxResumesAndKeepsWhatItHad() throws {
        let disk = try SmallFilesystem(kilobytes: 1_024)
        defer { disk.unmount() }
        // Never run: nothing is sent, the rows stay queued (the target is a closed port in any case).
        let outbox = try WebhookOutbox(configuration: WebhookConfiguration(
            targets: ["http://127.0.0.1:9/hook"], jsonFormat: Fixture.utcFormat, databasePath: disk.file("outbox.sqlite")))
        let (error, written) = try Self.rideAnOutage(on: disk, first: { try outbox.deliver($0, images: EventImages()) },
                                                     deliver: { try outbox.deliver($0, images: EventImages()) })
        Self.expectClear(error, naming: disk.file("outbox.sqlite"))
        let queued = try #require(try outbox.statistics().first).pending
        #expect(queued == written.count)
    }
}

/// A tmpfs of a fixed size mounted on a fresh directory, for running out of space for real. Needs root
/// (CAP_SYS_ADMIN), which the test machines and CI have. `unmount()` detaches and removes it.
final class SmallFilesystem {
    /// Where it is mounted.
    let path: String
    private var filler: String { (path as NSString).appendingPathComponent("filler") }

    init(kilobytes: Int) throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("platesinks-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k,mode=0755") == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: path)
            throw FullDiskSetupError("mount -t tmpfs on \(path) failed: \(String(cString: strerror(code))) (these tests need root)")
        }
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes a filler file until the filesystem has no byte left.
    func fill() throws {
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FullDiskSetupError("cannot create \(filler)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5A, count: 65_536)
        for size in [65_536, 4_096, 1] {
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress!, size) }) > 0 {}
            guard errno == ENOSPC else { throw FullDiskSetupError("filling \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Deletes the filler: the space comes back.
    func freeFiller() throws { try FileManager.default.removeItem(atPath: filler) }

    func unmount() {
        _ = umount2(path, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct FullDiskSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
