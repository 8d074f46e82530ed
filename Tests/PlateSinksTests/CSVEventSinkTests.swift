import Foundation
import PlateCore
import PlateSinks
import Testing

@Suite struct CSVEventSinkTests {
    private func records(_ directory: TemporaryDirectory, _ name: String) throws -> [[String: String]] {
        let rows = try CSVReader.parse(directory.read(name))
        guard let header = rows.first else { return [] }
        #expect(header == CSVEventSink.columns)
        #expect(rows.dropFirst().allSatisfy { $0.count == header.count })
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test func writesAHeaderAndOneRowPerEventThatParseBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = CSVEventSink(configuration: .init(path: try PathTemplate("events.csv"), baseDirectory: directory.path,
                                                     format: Fixture.utcFormat))
        let event = Fixture.event()
        try sink.deliver(event, images: EventImages(filename: "camera-1_screenshots/x.jpg"))
        try sink.deliver(Fixture.event(plate: nil, track: 2, direction: nil))
        sink.shutdown()

        let rows = try records(directory, "events.csv")
        #expect(rows.count == 2)
        let row = rows[0]
        #expect(row["camera_id"] == "camera-1")
        #expect(row["timestamp"] == "2021-07-31T13:53:36.169692Z")
        #expect(row["timestamp_local"] == "2021-07-31 13:53:36.169692+00:00")
        #expect(row["plate"] == "hdb167a")
        #expect(row["score"] == "0.908")
        #expect(row["dscore"] == "0.888")
        #expect(row["region"] == "us-pa")
        #expect(row["region_score"] == "0.079")
        #expect(row["vehicle_type"] == "Sedan")
        #expect(row["vehicle_score"] == "0.688")
        #expect(row["vehicle_color"] == "white")
        #expect(row["vehicle_orientation"] == "Front")
        #expect(row["vehicle_make"] == "Chrysler")
        #expect(row["vehicle_model"] == "200")
        #expect(row["direction"] == "345")
        #expect(row["position_sec"] == "11.14")
        #expect(row["source_url"] == "/user-data/video.mp4")
        #expect([row["xmin"], row["ymin"], row["xmax"], row["ymax"]] == ["49", "455", "116", "491"])
        #expect([row["vehicle_xmin"], row["vehicle_ymin"], row["vehicle_xmax"], row["vehicle_ymax"]] == ["1", "171", "290", "548"])
        #expect(row["candidates"] == "hdb167a:0.908|hdb167ax:0.05")
        #expect(row["filename"] == "camera-1_screenshots/x.jpg")
        #expect(row["event_id"] == EventIdentifier.make(for: event))
        // A vehicle without a plate: empty plate fields, the vehicle still there.
        #expect(rows[1]["plate"] == "" && rows[1]["score"] == "" && rows[1]["xmin"] == "")
        #expect(rows[1]["vehicle_type"] == "Sedan")
        #expect(rows[1]["direction"] == "")
    }

    @Test func quotesCommasQuotesAndLineBreaks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sink = CSVEventSink(configuration: .init(path: try PathTemplate("q.csv"), baseDirectory: directory.path))
        let awkward = "rtsp://cam/stream?a=1,b=\"two\"\r\nthree"
        try sink.deliver(Fixture.event(camera: "gate, north \"A\"", sourceURL: awkward))
        sink.shutdown()
        let text = try directory.read("q.csv")
        #expect(text.contains("\"gate, north \"\"A\"\"\""))
        let rows = try records(directory, "q.csv")
        #expect(rows.count == 1)
        #expect(rows[0]["camera_id"] == "gate, north \"A\"")
        #expect(rows[0]["source_url"] == awkward)
    }

    @Test func quotingRules() {
        #expect(CSVEventSink.quote("plain") == "plain")
        #expect(CSVEventSink.quote("a,b") == "\"a,b\"")
        #expect(CSVEventSink.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVEventSink.quote("line\nbreak") == "\"line\nbreak\"")
        #expect(CSVEventSink.quote(" padded") == "\" padded\"")
        #expect(CSVEventSink.line(["a", "b,c", ""]) == "a,\"b,c\",\r\n")
    }

    @Test func headerOncePerFileAcrossRolloverAndReopening() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = CSVEventSink.Configuration(path: try PathTemplate("$(camera)-%Y%m%d.csv"),
                                                       baseDirectory: directory.path, format: Fixture.utcFormat)
        let sink = CSVEventSink(configuration: configuration)
        try sink.deliver(Fixture.event(plate: "AAA1", camera: "c1", track: 1, at: Fixture.utc(2023, 12, 31, 23, 59, 59)))
        try sink.deliver(Fixture.event(plate: "BBB2", camera: "c1", track: 2, at: Fixture.utc(2024, 1, 1, 0, 0, 1)))
        sink.shutdown()
        // A new sink (a restart) appends to the existing file without a second header.
        let again = CSVEventSink(configuration: configuration)
        try again.deliver(Fixture.event(plate: "CCC3", camera: "c1", track: 3, at: Fixture.utc(2024, 1, 1, 0, 0, 2)))
        again.shutdown()

        #expect(try records(directory, "c1-20231231.csv").map { $0["plate"] } == ["aaa1"])
        #expect(try records(directory, "c1-20240101.csv").map { $0["plate"] } == ["bbb2", "ccc3"])
        let raw = try CSVReader.parse(directory.read("c1-20240101.csv"))
        #expect(raw.filter { $0 == CSVEventSink.columns }.count == 1)
    }
}
