import Foundation
#if canImport(Glibc)
import Glibc
#endif

private typealias HarnessError = DecodeHarness.HarnessError

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+): the child closes every descriptor from `from` on.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// Headless Chromium (the Debian `chromium` package), driven over the DevTools protocol through a pipe
/// (`--remote-debugging-pipe`: commands on fd 3, answers on fd 4, each message a JSON text ended by NUL),
/// so a test needs no WebSocket client. Calls block: run them off the cooperative pool.
final class HeadlessChromium: @unchecked Sendable {
    // Why unchecked: one test drives it from one thread at a time.
    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private let profile: URL
    private var pending: [UInt8] = []
    private var nextID = 1
    private var session: String?

    /// The browser, from `PLATESTREAM_CHROMIUM` or the Debian package's path.
    static var executable: String { ProcessInfo.processInfo.environment["PLATESTREAM_CHROMIUM"] ?? "/usr/bin/chromium" }

    /// Starts the browser at `url` in a window of `width` x `height` and attaches to its page.
    init(url: String, width: Int = 1200, height: Int = 800) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError("\(Self.executable) is missing: scripts/setup installs the chromium package")
        }
        profile = try DecodeHarness.temporaryDirectory("chromium")
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        // Close-on-exec in this process, so that children other tests spawn meanwhile do not hold them open; dup2
        // in the child clears the flag on fds 3 and 4.
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw HarnessError("pipe() failed") }
        for fd in toBrowser + fromBrowser { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        guard (toBrowser + fromBrowser).allSatisfy({ $0 > 4 }) else {
            // Why: the child's dup2 onto 3 and 4 would overwrite a pipe end that sits there.
            for fd in toBrowser + fromBrowser { Glibc.close(fd) }
            throw HarnessError("pipe ends \(toBrowser + fromBrowser) overlap fds 3-4")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child reads commands on fd 3 and writes answers on fd 4; stdout/stderr go to /dev/null.
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        // Nothing else goes to the child: not our pipe ends, and not the sockets Foundation's Process keeps per
        // running child (not close-on-exec), which would hide those children's exits from other tests while
        // the browser runs (see DecodeHarness.launch).
        _ = spawnCloseFrom(&actions, 5)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [Self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-pipe",
                         "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", url]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, Self.executable, &actions, nil, &argv, environ)
        Glibc.close(toBrowser[0])
        Glibc.close(fromBrowser[1])
        guard status == 0 else {
            Glibc.close(toBrowser[1])
            Glibc.close(fromBrowser[0])
            throw HarnessError("posix_spawn \(Self.executable): \(String(cString: strerror(status)))")
        }
        pid = child
        commands = toBrowser[1]
        answers = fromBrowser[0]
        let targets = try call("Target.getTargets", session: false)
        let infos = (targets["targetInfos"] as? [[String: Any]]) ?? []
        guard let page = infos.first(where: { $0["type"] as? String == "page" })?["targetId"] as? String else {
            throw HarnessError("chromium has no page: \(infos)")
        }
        let attached = try call("Target.attachToTarget", ["targetId": page, "flatten": true], session: false)
        session = attached["sessionId"] as? String
        _ = try call("Runtime.enable")
    }

    /// Sends one command (to the page's session unless `session` is false) and returns its `result`.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:], session useSession: Bool = true,
              timeout: TimeInterval = 60) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if useSession, let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(commands, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw HarnessError("writing to chromium failed: errno \(errno)") }
                offset += n
            }
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            // Events (no id) and answers to other calls are skipped.
            let answer = try readMessage(until: deadline)
            guard answer["id"] as? Int == id else { continue }
            if let error = answer["error"] { throw HarnessError("\(method): \(error)") }
            return (answer["result"] as? [String: Any]) ?? [:]
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value as JSON would hold it.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "awaitPromise": true, "returnByValue": true])
        if let exception = result["exceptionDetails"] { throw HarnessError("page script failed: \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression` every 100 ms until it gives a truthy value; throws with `what` after `timeout`.
    /// A script error counts as "not yet" (the page may still be loading), and is named if it times out.
    func waitFor(_ what: String, _ expression: String, timeout: TimeInterval = 90) throws -> Any {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                if let value = try evaluate(expression), !(value is NSNull), (value as? Bool) != false { return value }
            } catch {
                lastError = error
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw HarnessError("timed out after \(Int(timeout)) s waiting for \(what)" + (lastError.map { " (last: \($0))" } ?? ""))
    }

    /// A PNG of the page as shown.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else {
            throw HarnessError("no screenshot data")
        }
        return data
    }

    private func readMessage(until deadline: Date) throws -> [String: Any] {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let body = Data(pending[..<end])
                pending.removeSubrange(...end)
                return (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
            }
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard left > 0 else { throw HarnessError("chromium did not answer in time") }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, min(left, 1000))
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw HarnessError("poll failed: errno \(errno)") }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(answers, &chunk, chunk.count)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw HarnessError("chromium closed its pipe (exited?)") }
            pending.append(contentsOf: chunk[..<n])
        }
    }

    /// Stops the browser and removes its profile.
    func close() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Glibc.close(commands)
        Glibc.close(answers)
        try? FileManager.default.removeItem(at: profile)
    }
}
