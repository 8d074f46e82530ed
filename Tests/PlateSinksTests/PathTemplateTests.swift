import Foundation
import PlateCore
import PlateSinks
import Testing

@Suite struct PathTemplateTests {
    let utc = TimeZone(identifier: "UTC")!

    @Test func expandsCameraAndDate() throws {
        let template = try PathTemplate("events/$(camera)/%Y-%m-%d.jsonl")
        let path = template.path(camera: "gate-1", date: Fixture.utc(2024, 3, 9, 23, 59, 59.5), timeZone: utc)
        #expect(path == "events/gate-1/2024-03-09.jsonl")
        #expect(template.usesCamera)
    }

    @Test func everyDirective() throws {
        let template = try PathTemplate("%Y|%y|%m|%d|%e|%H|%I|%M|%S|%p|%j|%a|%A|%b|%B|%F|%T|%s|%f|%%")
        let date = Fixture.utc(2021, 7, 4, 13, 5, 6.25)
        let path = template.path(camera: "c", date: date, timeZone: utc)
        let epoch = Int64(date.timeIntervalSince1970)
        #expect(path == "2021|21|07|04| 4|13|01|05|06|PM|185|Sun|Sunday|Jul|July|2021-07-04|13:05:06|\(epoch)|250000|%")
    }

    @Test func formatsInTheGivenTimeZone() throws {
        let template = try PathTemplate("%F_%H")
        let date = Fixture.utc(2024, 1, 1, 2)   // 21:00 the day before in New York
        #expect(template.path(camera: "c", date: date, timeZone: TimeZone(identifier: "America/New_York")!) == "2023-12-31_21")
        #expect(template.path(camera: "c", date: date, timeZone: utc) == "2024-01-01_02")
    }

    @Test func trackAndEventPlaceholders() throws {
        let event = Fixture.event(track: 42)
        let path = try PathTemplate("$(camera)/$(track)-$(event).jpg").path(for: event, timeZone: utc)
        #expect(path == "camera-1/42-\(EventIdentifier.make(for: event)).jpg")
    }

    @Test func substitutedValuesCannotLeaveTheDirectory() throws {
        let template = try PathTemplate("out/$(camera)/x")
        #expect(template.path(camera: "../../etc", date: Fixture.referenceDate, timeZone: utc) == "out/.._.._etc/x")
        #expect(template.path(camera: "..", date: Fixture.referenceDate, timeZone: utc) == "out/_/x")
    }

    @Test(arguments: ["events/%Q.jsonl", "events/$(cam).jsonl", "events/$(camera.jsonl", "trailing%", ""])
    func rejectsUnknownDirectivesAtStartUp(_ template: String) {
        #expect(throws: SinkError.self) { try PathTemplate(template) }
        do {
            _ = try PathTemplate(template)
        } catch let error as SinkError {
            #expect(error.isInvalidConfiguration)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct EventIdentifierTests {
    @Test func isStableAndHeaderSafe() {
        let event = Fixture.event()
        let id = EventIdentifier.make(for: event)
        #expect(id == EventIdentifier.make(for: event))
        #expect(id.count == 36)
        #expect(id.allSatisfy { $0.isHexDigit || $0 == "-" })
        #expect(Array(id)[14] == "8")   // version 8
    }

    @Test func differsForOtherEvents() {
        let base = Fixture.event()
        var ids = Set([EventIdentifier.make(for: base)])
        ids.insert(EventIdentifier.make(for: Fixture.event(track: 2)))
        ids.insert(EventIdentifier.make(for: Fixture.event(camera: "camera-2")))
        ids.insert(EventIdentifier.make(for: Fixture.event(sourceURL: "/user-data/other.mp4")))
        #expect(ids.count == 4)
        // A live camera's restarted tracker reuses track 1, but not the time.
        let live = Fixture.event(sourceURL: "rtsp://cam/1")
        #expect(EventIdentifier.make(for: live)
                != EventIdentifier.make(for: Fixture.event(at: Fixture.referenceDate.addingTimeInterval(0.000_001), sourceURL: "rtsp://cam/1")))
        // A file processed again (a node restarted) yields the same passage at another time: the same identifier.
        #expect(EventIdentifier.make(for: base) == EventIdentifier.make(for: Fixture.event(at: Fixture.referenceDate.addingTimeInterval(60))))
        let many = Set(Fixture.events(2000).map(EventIdentifier.make(for:)))
        #expect(many.count == 2000)
    }
}
