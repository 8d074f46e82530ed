public import Foundation
public import Hummingbird
public import PlateCore

/// The live console: the page (`GET /`, static files shipped as resources) and its JSON API
/// (`/api/events`, `/api/events/stream`, `/api/events/{id}/image`, `/api/cameras`), mounted on the
/// snapshot server's router so one port serves both.
///
/// When the server has API keys, every `/api/` route wants one of their Plate Recognizer tokens, as
/// `Authorization: Token <token>` or, for the browser's EventSource and `<img>` (which cannot set
/// headers), a `token` query parameter. The page itself holds no data and needs none.
public struct ConsoleAPI: Sendable {
    let search: any ConsoleEventSearch
    let health: any ConsoleCameraHealth
    let broadcaster: ConsoleBroadcaster
    let authorize: @Sendable (String?) -> Bool
    let files: [String: (type: String, body: ByteBuffer)]

    /// Every route of the console, as `METHOD /path` (what `/openapi.json` documents).
    public static let routes: [String] = [
        "GET /", "GET /console/{file}", "GET /api/events", "GET /api/events/stream", "GET /api/events/{id}/image",
        "GET /api/cameras",
    ]

    /// The console over `search` (stored events), `health` (cameras) and `broadcaster` (live events).
    /// `authorize` gets the token a request carries (nil: none) and says whether it may read.
    public init(search: any ConsoleEventSearch, health: any ConsoleCameraHealth, broadcaster: ConsoleBroadcaster,
                authorize: @escaping @Sendable (String?) -> Bool) throws {
        self.search = search
        self.health = health
        self.broadcaster = broadcaster
        self.authorize = authorize
        var files: [String: (type: String, body: ByteBuffer)] = [:]
        let types = ["index.html": "text/html; charset=utf-8", "console.css": "text/css; charset=utf-8",
                     "console.js": "text/javascript; charset=utf-8"]
        for (name, type) in types {
            let parts = name.split(separator: ".")
            guard let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]),
                                              subdirectory: "console") else {
                throw ConsoleError("the console's \(name) is missing from the PlateConsole resources")
            }
            files[name] = (type, ByteBuffer(bytes: try Data(contentsOf: url)))
        }
        self.files = files
    }

    /// Adds the console's routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/") { _, _ in self.file("index.html") }
        router.get("/console/{file}") { _, context in self.file(context.parameters.get("file") ?? "") }
        router.get("/api/events") { request, _ in
            if let denied = self.check(request) { return denied }
            return try await self.events(request)
        }
        router.get("/api/events/stream") { request, _ in
            if let denied = self.check(request) { return denied }
            let stream = self.broadcaster.subscribe().map { ByteBuffer(string: $0) }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                            body: ResponseBody(asyncSequence: stream))
        }
        router.get("/api/events/{id}/image") { request, context in
            if let denied = self.check(request) { return denied }
            let kind = request.uri.queryParameters.get("kind") ?? "vehicle"
            guard ["plate", "vehicle"].contains(kind) else {
                return Self.detail(.badRequest, "kind: \"\(kind)\" is neither plate nor vehicle")
            }
            guard let id = context.parameters.get("id"), let jpeg = try await self.search.image(eventID: id, kind: kind) else {
                return Self.detail(.notFound, "no \(kind) picture for this event")
            }
            // An event's pictures never change once stored.
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=86400"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        router.get("/api/cameras") { request, _ in
            if let denied = self.check(request) { return denied }
            let stats = self.broadcaster.statistics()
            return Self.json(.ok, .object([
                ("cameras", .array(self.health.cameras().map(\.json))),
                ("stream", .object([("clients", .integer(stats.clients)), ("published", .integer(stats.published)),
                                    ("dropped", .integer(stats.dropped))])),
            ]))
        }
    }

    /// A static file of the page; only the three it is made of.
    func file(_ name: String) -> Response {
        guard let file = files[name] else { return Self.detail(.notFound, "no such file") }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: ResponseBody(byteBuffer: file.body))
    }

    /// The 403 to send when the request's token is missing or wrong; nil when it may go on.
    func check(_ request: Request) -> Response? {
        var token = request.uri.queryParameters.get("token")
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "token" { token = String(parts[1]) }
        }
        guard authorize(token) else {
            return Self.detail(.forbidden, token == nil ? "Authentication credentials were not provided." : "Invalid token.")
        }
        return nil
    }

    /// `GET /api/events`: the search.
    func events(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var search = ConsoleSearch()
        if let plate = query.get("plate")?.trimmingCharacters(in: .whitespaces), !plate.isEmpty {
            guard !PlateText.canonical(plate).isEmpty else { return Self.detail(.badRequest, "plate: no letter or digit in \"\(plate)\"") }
            search.plate = plate
        }
        if let camera = query.get("camera"), !camera.isEmpty { search.cameraID = camera }
        for (name, keyPath) in [("from", \ConsoleSearch.from), ("to", \ConsoleSearch.to)] {
            guard let text = query.get(name), !text.isEmpty else { continue }
            guard let date = ConsoleTime.parse(text) else {
                return Self.detail(.badRequest, "\(name): \"\(text)\" is not an ISO 8601 time (2026-12-06T23:40:00Z)")
            }
            search[keyPath: keyPath] = date
        }
        for (name, keyPath, range) in [("limit", \ConsoleSearch.limit, 1...1000), ("offset", \ConsoleSearch.offset, 0...1_000_000)] {
            guard let text = query.get(name) else { continue }
            guard let value = Int(text), range.contains(value) else {
                return Self.detail(.badRequest, "\(name): \"\(text)\" is not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            search[keyPath: keyPath] = value
        }
        let started = ContinuousClock.now
        let found = try await self.search.events(matching: search)
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return Self.json(.ok, .object([
            ("events", .array(found.map { event in
                event.json(match: search.plate.flatMap { PlateSearchMatch.of(event.plate, query: $0) })
            })),
            ("query", .object([("plate", .string(search.plate)), ("folded", .string(search.plate.map(PlateText.folded)))])),
            ("took_ms", .number((milliseconds * 10).rounded() / 10)),
        ]))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized())))
    }

    static func detail(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, .object([("detail", .string(message))]))
    }
}

/// Why the console cannot start.
public struct ConsoleError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}
