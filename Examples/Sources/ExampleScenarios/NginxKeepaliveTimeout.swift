import Netfault

/// nginx closes a keep-alive connection that stays idle past `keepalive_timeout` (1 s here):
/// its FIN leaves 1 s after the response, and while the client keeps its end open the
/// server's side waits in FIN_WAIT2, then TIME_WAIT once the client closes.
public let nginxKeepaliveTimeout = Scenario("EX2", "nginx's keepalive_timeout closes an idle connection: FIN_WAIT2, then TIME_WAIT") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.102.0/24")             // client .1, server .2
    Command("nginx", on: "server", ["unshare", "--mount", "sh", "-c", NginxKeepalive.script])
    WaitFor(.listener(on: "server", port: 80), in: .listen, timeout: 10)
    // One request on a keep-alive connection, then idle until nginx closes it; the socket
    // stays open 1 s more, so the server's side is seen in FIN_WAIT2.
    Command("client", on: "client", ["python3", "-c", NginxKeepalive.client])
    WaitFor(exitOf: "client", timeout: 10)
    Expect.process("client", exits: 0)
    Expect.output(of: "client", contains: "HTTP/1.1 200 OK")
    Expect.output(of: "client", contains: "closed by the server")
    // nginx arms the timer after writing the response, on its cached clock in whole
    // milliseconds, read before the write: up to 2 ms early. Late: 250 ms, since the worker
    // waits for a CPU once epoll_wait returns: 1.000–1.046 s in 43 of 45 recorded runs here,
    // 1.132 and 1.191 s with two CPUs shared by ~6 builds (load average 10–14). nginx's default
    // keepalive_timeout (75 s) or none at all would be far outside.
    Expect.delay(from: .segment(.data, from: "server"), to: .segment(.fin, from: "server"), is: 1,
                 tolerance: Tolerance(early: 0.002, lateMinimum: 0.25, lateFraction: 0))
    Expect.socket(.connection(on: "server", port: 80), passesThrough: [.established, .finWait2, .timeWait])
    Expect.socket(.connection(on: "client", port: 80), passesThrough: [.established, .closeWait])
}

enum NginxKeepalive {
    /// nginx as root in the server's namespace, in a mount namespace of its own: a tmpfs on
    /// /var/lib/nginx holds its configuration, pid file and temp folders, and vanishes with
    /// the last process in that namespace, however nginx ends.
    static let script = #"""
        set -e
        mount -t tmpfs -o size=1m,mode=0755 netfault-nginx /var/lib/nginx
        cat > /var/lib/nginx/nginx.conf <<'CONF'
        daemon off;
        worker_processes 1;
        pid /var/lib/nginx/nginx.pid;
        error_log stderr notice;
        events { worker_connections 16; }
        http {
            access_log off;
            keepalive_timeout 1s;
            server {
                listen 10.77.102.2:80;
                location / { return 200 "hello\n"; }
            }
        }
        CONF
        exec nginx -e stderr -c /var/lib/nginx/nginx.conf
        """#

    /// A keep-alive HTTP/1.1 request; waits for the server to close; holds its end 1 s more.
    static let client = #"""
        import socket, time
        connection = socket.create_connection(("10.77.102.2", 80))
        connection.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        print(connection.recv(4096).decode().splitlines()[0], flush=True)
        while connection.recv(4096):
            pass
        print("closed by the server", flush=True)
        time.sleep(1)
        connection.close()
        """#
}
