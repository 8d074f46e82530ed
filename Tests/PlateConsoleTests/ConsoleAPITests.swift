import Foundation
import Hummingbird
import HummingbirdTesting
import PlateConsole
import PlateCore
import Testing

/// A fixed set of stored events (a fake beside the live test in IntegrationTests/ConsoleBrowserTests).
struct FixedSearch: ConsoleEventSearch {
    let stored: [ConsoleEvent]
    let seen = Seen()

    final class Seen: @unchecked Sendable {
        var searches: [ConsoleSearch] = []
    }

    func events(matching search: ConsoleSearch) async throws -> [ConsoleEvent] {
        seen.searches.append(search)
        guard let plate = search.plate else { return stored }
        return stored.filter { PlateSearchMatch.of($0.plate, query: plate) != nil }
    }

    func image(eventID: String, kind: String) async throws -> Data? {
        stored.contains { $0.id == eventID && $0.images.contains(kind) } ? Data([0xFF, 0xD8, 0xFF, 0xD9]) : nil
    }
}

struct FixedHealth: ConsoleCameraHealth {
    func cameras() -> [ConsoleCamera] {
        [ConsoleCamera(id: "gate", status: "reconnecting", inputFPS: 0, recognizedFPS: 0, lagSeconds: nil, dropped: 3,
                       reconnects: 2, events: 7, lastError: "connection refused")]
    }
}

@Suite struct ConsoleAPITests {
    static let events = [
        ConsoleEvent(id: "e2", cameraID: "gate", timestamp: Date(timeIntervalSince1970: 1_700_000_100), plate: "ABC1234",
                     score: 0.91, region: "us-ca", direction: 90, images: ["plate", "vehicle"]),
        ConsoleEvent(id: "e1", cameraID: "gate", timestamp: Date(timeIntervalSince1970: 1_700_000_000), plate: "XYZ987"),
    ]

    func app(token: String? = nil) throws -> (some ApplicationProtocol, FixedSearch) {
        let search = FixedSearch(stored: Self.events)
        let console = try ConsoleAPI(search: search, health: FixedHealth(), broadcaster: ConsoleBroadcaster(),
                                     authorize: { token == nil || $0 == token })
        let router = Router()
        console.register(on: router)
        return (Application(router: router), search)
    }

    @Test("the page and its files come from the resources; unknown files are 404")
    func page() async throws {
        try await app().0.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("/console/console.js"))
            }
            try await client.execute(uri: "/console/console.js", method: .get) { response in
                #expect(String(buffer: response.body).contains("EventSource"))
            }
            try await client.execute(uri: "/console/secret.txt", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("search passes plate, time range and paging through, and says how each plate matched")
    func search() async throws {
        let (app, search) = try app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/events?plate=AB0-1234&from=2023-11-14T00:00:00Z&to=2023-11-15&limit=5&offset=1",
                                     method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"id\":\"e2\""))
                #expect(!body.contains("\"id\":\"e1\""))
                #expect(body.contains("\"match\":\"one_edit\""))
                #expect(body.contains("\"plate\":\"/api/events/e2/image?kind=plate\""))
            }
            try await client.execute(uri: "/api/events?plate=A8C1234", method: .get) { response in
                #expect(String(buffer: response.body).contains("\"match\":\"folded\""))
            }
        }
        let first = try #require(search.seen.searches.first)
        #expect(first.plate == "AB0-1234")
        #expect(first.from == ConsoleTime.parse("2023-11-14T00:00:00Z"))
        #expect(first.to == ConsoleTime.parse("2023-11-15T00:00:00Z"))
        #expect(first.limit == 5 && first.offset == 1)
    }

    @Test("bad parameters get a 400 that names them")
    func badInput() async throws {
        try await app().0.test(.router) { client in
            for (query, name) in [("from=yesterday", "from"), ("limit=0", "limit"), ("limit=x", "limit"), ("plate=-%20-", "plate")] {
                try await client.execute(uri: "/api/events?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("\(name):"))
                }
            }
            try await client.execute(uri: "/api/events/e2/image?kind=frame", method: .get) { #expect($0.status == .badRequest) }
        }
    }

    @Test("pictures answer image/jpeg, or 404 when the event has none")
    func pictures() async throws {
        try await app().0.test(.router) { client in
            try await client.execute(uri: "/api/events/e2/image?kind=plate", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
            }
            try await client.execute(uri: "/api/events/e1/image", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("with keys, the API wants a token in the Authorization header or the query; the page does not")
    func authentication() async throws {
        try await app(token: "s3cret").0.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/cameras", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/cameras?token=wrong", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/events/stream", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/cameras", method: .get, headers: [.authorization: "Token s3cret"]) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"status\":\"reconnecting\"") && body.contains("\"last_error\":\"connection refused\""))
            }
            try await client.execute(uri: "/api/events/e2/image?kind=vehicle&token=s3cret", method: .get) { #expect($0.status == .ok) }
        }
    }
}

@Suite struct ConsoleBroadcasterTests {
    static func event(_ id: String) -> ConsoleEvent {
        ConsoleEvent(id: id, cameraID: "gate", timestamp: Date(timeIntervalSince1970: 0), plate: "P\(id)", emittedAt: Date())
    }

    @Test("a client gets the recent events marked as replays, then each new one, until finish")
    func replayThenLive() async throws {
        let broadcaster = ConsoleBroadcaster(capacity: 16, replayCount: 2)
        for id in ["1", "2", "3"] { broadcaster.publish(Self.event(id)) }
        let stream = broadcaster.subscribe()
        broadcaster.publish(Self.event("4"))
        broadcaster.finish()
        var messages: [String] = []
        for await message in stream { messages.append(message) }
        #expect(messages.count == 4)
        #expect(messages[0].hasPrefix("retry:"))
        #expect(messages[1].contains("id: 2\n") && messages[1].contains("\"replay\":true"))
        #expect(messages[2].contains("id: 3\n"))
        #expect(messages[3].hasPrefix("event: plate\nid: 4\ndata: {") && !messages[3].contains("replay"))
        #expect(messages[3].contains("\"emitted_at_ms\":"))
        #expect(broadcaster.statistics().clients == 0)
    }

    @Test("a client that does not read loses its oldest messages, counted, and the others are not held up")
    func slowClient() async throws {
        let broadcaster = ConsoleBroadcaster(capacity: 3, replayCount: 0)
        let slow = broadcaster.subscribe()
        for id in 1...10 { broadcaster.publish(Self.event(String(id))) }
        broadcaster.finish()
        var messages: [String] = []
        for await message in slow { messages.append(message) }
        #expect(messages.count == 3)
        #expect(messages.last?.contains("id: 10\n") == true)
        // The retry line and 10 events went into a buffer of 3.
        #expect(broadcaster.statistics().dropped == 8)
        #expect(broadcaster.statistics().published == 10)
    }
}

@Suite struct ConsoleOpenAPITests {
    @Test("the OpenAPI paths document exactly the console's routes")
    func documentsEveryRoute() {
        var documented: [String] = []
        for (path, value) in ConsoleOpenAPI.paths {
            guard case .object(let operations) = value else { continue }
            documented += operations.map { "\($0.key.uppercased()) \(path)" }
        }
        #expect(documented.sorted() == ConsoleAPI.routes.sorted())
    }
}
