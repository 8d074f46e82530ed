public import PlateCore

/// The console's routes in OpenAPI 3 terms, merged into the snapshot server's `/openapi.json`.
public enum ConsoleOpenAPI {
    private static func schema(_ type: String, _ description: String? = nil, format: String? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string(type))]
        if let format { members.append(("format", .string(format))) }
        if let description { members.append(("description", .string(description))) }
        return .object(members)
    }

    private static func query(_ name: String, _ type: String, _ description: String, in location: String = "query",
                              required: Bool = false) -> JSONValue {
        .object([("name", .string(name)), ("in", .string(location)), ("required", .bool(required)),
                 ("description", .string(description)), ("schema", schema(type))])
    }

    private static func content(_ type: String, _ description: String, _ schema: JSONValue) -> JSONValue {
        .object([("description", .string(description)), ("content", .object([(type, .object([("schema", schema)]))]))])
    }

    private static func get(_ summary: String, parameters: [JSONValue] = [], responses: [(String, JSONValue)],
                            secured: Bool = true) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("summary", .string(summary)), ("tags", .array([.string("Console")]))]
        var all = parameters
        if secured {
            all.append(query("token", "string", "A Plate Recognizer token of http.keys, for clients that cannot send "
                             + "`Authorization: Token …` (EventSource, <img>); needed only when keys are configured."))
        }
        if !all.isEmpty { members.append(("parameters", .array(all))) }
        var answers = responses
        if secured { answers.append(("403", content("application/json", "Missing or invalid token", detail))) }
        members.append(("responses", .object(answers.map { ($0.0, $0.1) })))
        if secured { members.append(("security", .array([.object([("PlateRecognizerToken", .array([]))]), .object([])]))) }
        return .object([("get", .object(members))])
    }

    private static let detail = JSONValue.object([("type", .string("object")),
                                                  ("properties", .object([("detail", schema("string"))]))])

    /// A console event (`/api/events` items, the live stream's `data`).
    public static let eventSchema = JSONValue.object([
        ("type", .string("object")),
        ("properties", .object([
            ("id", schema("string", "Stable event identifier")), ("camera_id", schema("string")),
            ("timestamp", schema("string", "Time of the best frame (UTC)", format: "date-time")),
            ("plate", schema("string", "Plate text, upper case; null for a vehicle without a plate")),
            ("score", schema("number", "Reading confidence 0...1")), ("region", schema("string", "Region code, e.g. us-ca")),
            ("direction", schema("integer", "Direction of travel in degrees (0 = rightwards, counter-clockwise)")),
            ("vehicle_type", schema("string")), ("vehicle_color", schema("string")),
            ("images", .object([("type", .string("object")), ("additionalProperties", schema("string")),
                                ("description", .string("Picture kind (plate, vehicle) → its URL"))])),
            ("emitted_at_ms", schema("number", "Live events: when the pipeline handed the event over, ms since 1970")),
            ("match", schema("string", "Search results: exact, folded (O/0, I/1, ...) or one_edit")),
            ("replay", schema("boolean", "Live stream: an event sent again to a client that just connected")),
        ])),
    ])

    /// The paths, for `/openapi.json`'s `paths` object.
    public static let paths: [(key: String, value: JSONValue)] = [
        ("/", get("The live console (HTML page)", responses: [("200", content("text/html", "The page", schema("string")))],
                  secured: false)),
        ("/console/{file}", get("The console's script and style sheet",
                                parameters: [query("file", "string", "console.js or console.css", in: "path", required: true)],
                                responses: [("200", content("text/plain", "The file", schema("string"))),
                                            ("404", content("application/json", "No such file", detail))], secured: false)),
        ("/api/events", get(
            "Stored events, newest first; by plate (folded: O/0 Q/0 D/0, I/1 L/1, Z/2, S/5, G/6, B/8, and one character "
            + "substituted, inserted or deleted), camera and time range",
            parameters: [
                query("plate", "string", "The plate as typed; omitted: every event"),
                query("camera", "string", "Only this camera"),
                query("from", "string", "Only events at or after this ISO 8601 time"),
                query("to", "string", "Only events before this ISO 8601 time"),
                query("limit", "integer", "At most this many, 1...1000 (default 50)"),
                query("offset", "integer", "Skip this many (paging)"),
            ],
            responses: [
                ("200", content("application/json", "The events", .object([("type", .string("object")), ("properties", .object([
                    ("events", .object([("type", .string("array")), ("items", eventSchema)])),
                    ("query", .object([("type", .string("object"))])), ("took_ms", schema("number")),
                ]))]))),
                ("400", content("application/json", "A parameter is invalid", detail)),
            ])),
        ("/api/events/stream", get(
            "Live events as Server-Sent Events: `event: plate`, `data:` one event as JSON; the last events are replayed first",
            responses: [("200", content("text/event-stream", "The stream", schema("string")))])),
        ("/api/events/{id}/image", get(
            "A stored event's picture",
            parameters: [query("id", "string", "The event id", in: "path", required: true),
                         query("kind", "string", "plate or vehicle (default)")],
            responses: [("200", content("image/jpeg", "The JPEG", schema("string", format: "binary"))),
                        ("400", content("application/json", "Unknown kind", detail)),
                        ("404", content("application/json", "No such picture", detail))])),
        ("/api/cameras", get(
            "Per-camera health: status (connected, reconnecting, starting, ended, failed; stale when the camera's node "
            + "stopped its heartbeat), input and recognized fps, lag, drops, last error, node and updated_at (every node "
            + "sharing a PostgreSQL store); and the live stream's clients and drops",
            responses: [("200", content("application/json", "Health", .object([("type", .string("object"))])))])),
    ]
}
