import PlateCore

/// The OpenAPI 3 description of every route, served at `/openapi.json`; built in code so that it
/// cannot drift from a hand-edited copy of the route list (a test checks both list the same routes).
enum OpenAPIDocument {
    private static func string(_ description: String? = nil, enumeration: [String]? = nil, format: String? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string("string"))]
        if let format { members.append(("format", .string(format))) }
        if let enumeration { members.append(("enum", .array(enumeration.map { .string($0) }))) }
        if let description { members.append(("description", .string(description))) }
        return .object(members)
    }

    private static func integer(_ description: String? = nil, minimum: Int? = nil, maximum: Int? = nil,
                                enumeration: [Int]? = nil, nullable: Bool = false) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string("integer"))]
        if let minimum { members.append(("minimum", .integer(minimum))) }
        if let maximum { members.append(("maximum", .integer(maximum))) }
        if let enumeration { members.append(("enum", .array(enumeration.map { .integer($0) }))) }
        if nullable { members.append(("nullable", .bool(true))) }
        if let description { members.append(("description", .string(description))) }
        return .object(members)
    }

    private static let number: JSONValue = .object([("type", .string("number"))])
    private static let boolean: JSONValue = .object([("type", .string("boolean"))])

    private static func array(_ items: JSONValue) -> JSONValue { .object([("type", .string("array")), ("items", items)]) }

    private static func object(_ properties: [(String, JSONValue)], required: [String] = [], nullable: Bool = false) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string("object"))]
        if nullable { members.append(("nullable", .bool(true))) }
        members.append(("properties", .object(properties.map { ($0.0, $0.1) })))
        if !required.isEmpty { members.append(("required", .array(required.map { .string($0) }))) }
        return .object(members)
    }

    private static func ref(_ name: String) -> JSONValue { .object([("$ref", .string("#/components/schemas/\(name)"))]) }

    private static func json(_ description: String, _ schema: JSONValue, headers: [String] = []) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("description", .string(description))]
        if !headers.isEmpty {
            members.append(("headers", .object(headers.map { ($0, .object([("schema", integer())])) })))
        }
        members.append(("content", .object([("application/json", .object([("schema", schema)]))])))
        return .object(members)
    }

    private static func parameter(_ name: String, in location: String, _ schema: JSONValue, required: Bool = false,
                                  description: String) -> JSONValue {
        .object([("name", .string(name)), ("in", .string(location)), ("required", .bool(required)),
                 ("description", .string(description)), ("schema", schema)])
    }

    private static func operation(_ summary: String, tag: String, parameters: [JSONValue] = [], body: JSONValue? = nil,
                                  responses: [(String, JSONValue)], security: String? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("summary", .string(summary)), ("tags", .array([.string(tag)]))]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body { members.append(("requestBody", body)) }
        members.append(("responses", .object(responses.map { ($0.0, $0.1) })))
        if let security { members.append(("security", .array([.object([(security, .array([]))])]))) }
        return .object(members)
    }

    static func build(version: String, additionalPaths: [(key: String, value: JSONValue)] = []) -> JSONValue {
        let box = object([("xmin", integer()), ("ymin", integer()), ("xmax", integer()), ("ymax", integer())])
        let detail = object([("detail", string())], required: ["detail"])
        let fieldErrors = JSONValue.object([("type", .string("object")), ("additionalProperties", array(string())),
                                            ("description", .string("Field name → error messages"))])
        let openALPRError = object([("error", string("Text error message describing the invalid input"))], required: ["error"])
        let rateHeaders = ["X-RateLimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"]
        let nhnHeader = object([("isSuccessful", boolean), ("resultCode", integer()), ("resultMessage", string())])
        let huaweiError = object([("error_code", string()), ("error_msg", string())], required: ["error_code", "error_msg"])
        let openALPRQuery: [JSONValue] = [
            parameter("secret_key", in: "query", string(), required: true, description: "The secret key of your account."),
            parameter("country", in: "query", string(), required: true, description: "Region code, e.g. us, eu, gb."),
            parameter("recognize_vehicle", in: "query", integer(enumeration: [0, 1]), description: "1: also recognize the vehicle (one more credit)."),
            parameter("return_image", in: "query", integer(enumeration: [0, 1]), description: "1: send the image back in base64 (image_bytes)."),
            parameter("topn", in: "query", integer(minimum: 1, maximum: 1000), description: "Number of plate candidates, default 10."),
            parameter("is_cropped", in: "query", integer(enumeration: [0, 1]), description: "1: the image is a plate crop."),
        ]
        let openALPRResponses: [(String, JSONValue)] = [
            ("200", json("OK", ref("OpenALPRResults"), headers: rateHeaders)),
            ("400", json("Parameter is invalid", openALPRError)),
            ("401", json("User not authorized or invalid secret_key", openALPRError)),
            ("402", json("Monthly usage limit exceeded", openALPRError)),
            ("403", json("Temporary rate-limit exceeded", openALPRError, headers: rateHeaders)),
        ]
        let plateRecognizerErrors: [(String, JSONValue)] = [
            ("400", json("Invalid input: field errors, or a parse error", .object([("oneOf", .array([fieldErrors, detail]))]))),
            ("403", json("Missing or invalid token, or monthly call limit reached", detail)),
            ("413", json("Request body or image too large", detail)),
            ("415", json("Unsupported media type", detail)),
            ("429", json("Rate limit exceeded (Retry-After says when to retry)", detail)),
        ]
        let vehicleCandidate = array(object([("name", string()), ("confidence", number)]))

        let paths: [(key: String, value: JSONValue)] = [
            ("/v1/plate-reader/", .object([("post", operation(
                "Read number plates from an image (Plate Recognizer Snapshot API)", tag: "Plate Recognizer",
                body: .object([("required", .bool(true)), ("content", .object([
                    ("multipart/form-data", .object([("schema", ref("PlateReaderForm"))])),
                    ("application/x-www-form-urlencoded", .object([("schema", ref("PlateReaderForm"))])),
                    ("application/json", .object([("schema", ref("PlateReaderForm"))])),
                ]))]),
                responses: [("200", json("Plates read", ref("PlateReaderResponse")))] + plateRecognizerErrors,
                security: "PlateRecognizerToken"))])),
            ("/info/", .object([("get", operation(
                "SDK version, license key and webhooks", tag: "Plate Recognizer",
                responses: [("200", json("OK", object([("version", string()), ("license_key", string()),
                                                       ("webhooks", array(string()))]))),
                            ("403", json("Missing or invalid token", detail))],
                security: "PlateRecognizerToken"))])),
            ("/v1/statistics/", .object([("get", operation(
                "Recognition calls this month", tag: "Plate Recognizer",
                responses: [("200", json("OK", object([
                    ("usage", object([("month", integer()), ("calls", integer()), ("year", integer()),
                                      ("resets_on", string(format: "date-time"))])),
                    ("total_calls", integer("Calls allowed per month; null when unlimited", nullable: true)),
                ]))), ("403", json("Missing or invalid token", detail))],
                security: "PlateRecognizerToken"))])),
            ("/v3/recognize", .object([("post", operation(
                "Recognize plates in an uploaded image (OpenALPR Cloud API v3)", tag: "OpenALPR", parameters: openALPRQuery,
                body: .object([("required", .bool(true)), ("content", .object([("multipart/form-data", .object([("schema",
                    object([("image", string("The image file", format: "binary"))], required: ["image"]))]))]))]),
                responses: openALPRResponses))])),
            ("/v3/recognize_bytes", .object([("post", operation(
                "Recognize plates in a base64-encoded image (OpenALPR Cloud API v3)", tag: "OpenALPR",
                parameters: Array(openALPRQuery.prefix(5)),
                body: .object([("required", .bool(true)), ("content", .object([
                    ("application/json", .object([("schema", string("The image, base64 (raw text or a JSON string)"))])),
                    ("text/plain", .object([("schema", string("The image, base64"))])),
                ]))]),
                responses: openALPRResponses))])),
            ("/v3/recognize_url", .object([("post", operation(
                "Recognize plates in an image fetched from a URL (OpenALPR Cloud API v3)", tag: "OpenALPR",
                parameters: [parameter("image_url", in: "query", string(format: "uri"), required: true,
                                       description: "http(s) URL of the image; private, loopback, link-local and metadata addresses are refused unless allow-listed.")]
                    + Array(openALPRQuery.prefix(5)),
                responses: openALPRResponses))])),
            ("/v3/config", .object([("get", operation(
                "Countries and vehicle labels (OpenALPR Cloud API v3)", tag: "OpenALPR",
                responses: [("200", json("ok", object([
                    ("countries", array(object([("code", string()), ("name", string())]))),
                    ("vehicle_labels", object([("bodytype", array(string())), ("color", array(string())), ("make", array(string())),
                                               ("makemodel", array(string())), ("orientation", array(string())),
                                               ("year", array(string()))])),
                ])))]))])),
            ("/v1.0/appkeys/{appKey}/vehicle-plate", .object([("post", operation(
                "License plate analysis (NHN Cloud Vehicle Plate OCR)", tag: "NHN Cloud",
                parameters: [parameter("appKey", in: "path", string(), required: true, description: "App key from the console."),
                             parameter("Authorization", in: "header", string(), required: true, description: "Secret key from the console.")],
                body: .object([("required", .bool(true)), ("content", .object([("multipart/form-data", .object([("schema",
                    object([("image", string("Image file", format: "binary"))], required: ["image"]))]))]))]),
                responses: [("200", json("Always 200: success or failure is in header (resultCode 0 = success; "
                    + "4000001 invalid parameter, 4000002 invalid file, 4000003 invalid file type, 4000004 empty file, "
                    + "4000005 missing header, 4000006 call limit, 4010001 invalid appKey or secretKey, 4131000 too large, "
                    + "415 unsupported media type, -1 unknown)", object([
                        ("header", nhnHeader),
                        ("result", object([
                            ("fileType", string()),
                            ("values", array(object([("value", string()), ("conf", number)]))),
                            ("boxes", array(object((1...4).flatMap { [("x\($0)", integer()), ("y\($0)", integer())] }))),
                            ("resolution", string(enumeration: ["normal", "low"])),
                        ])),
                    ], required: ["header"])))]))])),
            ("/v2/{project_id}/ocr/license-plate", .object([("post", operation(
                "Plate Number OCR (Huawei Cloud)", tag: "Huawei Cloud",
                parameters: [parameter("project_id", in: "path", string(), required: true, description: "Project ID."),
                             parameter("X-Auth-Token", in: "header", string(), required: true, description: "User token.")],
                body: .object([("required", .bool(true)), ("content", .object([("application/json", .object([("schema", object([
                    ("image", string("Base64 image: at most 10 MB, narrow edge >= 15 px, wide edge <= 4096 px; JPEG, PNG, BMP or TIFF")),
                    ("url", string("Image URL (set either image or url)")),
                ]))]))]))]),
                responses: [
                    ("200", json("Success", object([("result", array(object([
                        ("plate_number", string()), ("plate_color", string()), ("confidence", number),
                        ("plate_location", array(array(integer()))),
                    ])))]))),
                    ("400", json("AIS.0101 invalid parameter, AIS.0102 unsupported format, AIS.0103 image size, AIS.0104 poor image",
                                 huaweiError)),
                    ("401", json("APIG.1002 incorrect token", huaweiError)),
                    ("403", json("APIG.1005 no permission (project)", huaweiError)),
                    ("429", json("APIG.0308 throttled", huaweiError)),
                    ("500", json("AIS.0105 recognition failed", huaweiError)),
                ]))])),
            ("/openapi.json", .object([("get", operation("This document", tag: "Server",
                                                        responses: [("200", json("OpenAPI 3 document", object([]))) ]))])),
            ("/healthz", .object([("get", operation("Liveness", tag: "Server",
                                                   responses: [("200", json("Serving", object([("status", string())])))]))])),
            ("/metrics", .object([("get", operation("Prometheus metrics", tag: "Server", responses: [
                ("200", .object([("description", .string("Prometheus text format")),
                                 ("content", .object([("text/plain", .object([("schema", string())]))]))])),
                ("404", json("Metrics are not enabled", object([("error", string())]))),
            ]))])),
        ]

        let plateResult = object([
            ("box", box), ("plate", string("Plate text, lower case")),
            ("region", object([("code", string()), ("score", number)])),
            ("vehicle", object([("score", number), ("type", string()), ("box", box)])),
            ("score", number), ("candidates", array(object([("score", number), ("plate", string())]))), ("dscore", number),
            ("model_make", array(object([("make", string()), ("model", string()), ("score", number)]))),
            ("color", array(object([("color", string()), ("score", number)]))),
            ("orientation", array(object([("orientation", string()), ("score", number)]))),
        ], required: ["box", "plate", "region", "vehicle", "score", "candidates", "dscore"])
        let vehicleDetails = object([("color", vehicleCandidate), ("make", vehicleCandidate), ("make_model", vehicleCandidate),
                                     ("body_type", vehicleCandidate), ("year", vehicleCandidate), ("orientation", vehicleCandidate)])
        let roi = object([("x", integer()), ("y", integer()), ("width", integer()), ("height", integer())])
        let schemas: [(key: String, value: JSONValue)] = [
            ("PlateReaderForm", object([
                ("upload", string("The image: file bytes (multipart) or base64 text", format: "binary")),
                ("regions", array(string())),
                ("camera_id", string()),
                ("timestamp", string("ISO 8601, UTC", format: "date-time")),
                ("mmc", boolean),
                ("config", string("JSON: region=strict, threshold_d, threshold_o, mode=fast|redaction, detection_rule=strict")),
            ], required: ["upload"])),
            ("PlateReaderResponse", object([
                ("usage", object([("calls", integer()), ("max_calls", integer(nullable: true))])),
                ("processing_time", number),
                ("results", array(plateResult)),
                ("filename", string()),
                ("version", integer()),
                ("camera_id", .object([("type", .string("string")), ("nullable", .bool(true))])),
                ("timestamp", string(format: "date-time")),
            ], required: ["usage", "processing_time", "results", "filename", "version", "camera_id", "timestamp"])),
            ("OpenALPRResults", object([
                ("credit_cost", integer()), ("credits_monthly_total", integer(nullable: true)), ("credits_monthly_used", integer()),
                ("data_type", string(enumeration: ["alpr_results", "alpr_group", "heartbeat"])),
                ("epoch_time", number), ("img_height", integer()), ("img_width", integer()),
                ("processing_time", object([("plates", number), ("total", number), ("vehicles", number)])),
                ("regions_of_interest", array(roi)),
                ("results", array(object([
                    ("candidates", array(object([("confidence", number), ("matches_template", integer()), ("plate", string())]))),
                    ("confidence", number),
                    ("coordinates", array(object([("x", integer()), ("y", integer())]))),
                    ("matches_template", integer()), ("plate", string()), ("processing_time_ms", number),
                    ("region", string()), ("region_confidence", number), ("requested_topn", integer()),
                    ("vehicle", vehicleDetails), ("vehicle_region", roi),
                ]))),
                ("vehicles", array(object([("details", vehicleDetails), ("height", integer()), ("width", integer()),
                                           ("x", integer()), ("y", integer())]))),
                ("version", integer()),
                ("image_bytes", string("With return_image=1: the image, base64")),
            ])),
        ]

        return .object([
            ("openapi", .string("3.0.3")),
            ("info", .object([
                ("title", .string("PlateStream snapshot APIs")),
                ("version", .string(version)),
                ("description", .string("On-premise licence-plate recognition behind the Plate Recognizer, OpenALPR Cloud v3, "
                    + "NHN Cloud Vehicle Plate OCR and Huawei Cloud Plate Number OCR interfaces.")),
            ])),
            ("paths", .object(paths + additionalPaths)),
            ("components", .object([
                ("schemas", .object(schemas)),
                ("securitySchemes", .object([
                    ("PlateRecognizerToken", .object([("type", .string("apiKey")), ("in", .string("header")),
                                                      ("name", .string("Authorization")),
                                                      ("description", .string("Token API_TOKEN"))])),
                ])),
            ])),
        ])
    }
}
