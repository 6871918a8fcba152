package org.tianlu.interop;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.ProviderConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.tianlu.interop.idl.CatalogService;
import org.tianlu.interop.idl.CatalogServiceImpl;

/**
 * Starts a Dubbo 3.3 provider for tianlu's tests with a plain main() (no Spring).
 *
 * <pre>
 * --dubbo-port N      required; dubbo protocol port on 127.0.0.1
 * --tri-port N        optional; also export every service over Triple on this port, plus the
 *                     protobuf IDL service org.tianlu.interop.idl.CatalogService (tri only)
 * --app NAME          application name (default tianlu-interop)
 * --name NAME         instance name returned by UserService.whoAmI (default: the app name)
 * --registry URL      registry address (default N/A = direct connection only), e.g.
 *                     zookeeper://127.0.0.1:2181?session=4000 or nacos://127.0.0.1:8848
 * --register-mode M   interface|instance|all (Dubbo's dubbo.application.register-mode, default all):
 *                     interface = /dubbo/{interface}/providers (ZK) or providers:{i}:{v}:{g} (Nacos);
 *                     instance = application-level (/services/{app} + mapping, or the app name in Nacos)
 * --metadata-type T   local|remote (default local: MetadataInfo served by the provider's
 *                     MetadataService; remote: stored in the registry's metadata report instead)
 * --metadata-protocol P
 *                     dubbo|tri: the protocol the built-in MetadataService is exported on (Dubbo
 *                     3.3 picks tri when a Triple port exists)
 * --weight N          provider weight written into the registered URLs (default: none = 100)
 * --slow-ms N         artificial delay added to every UserService call (default 0)
 * --threads N         provider thread pool size (default 200, Dubbo's default)
 * --queues N          provider thread pool queue (default 10000; Dubbo's default 0 rejects bursts)
 * --generic-exception wrapped|raw
 *                     wrapped (Dubbo's default): generic calls see exceptions as
 *                     com.alibaba.dubbo.rpc.service.GenericException{exceptionClass, exceptionMessage};
 *                     raw: the dubbo2-compat layer is switched off (dubbo.compact.enable=false) and
 *                     the original Throwable, with its custom fields, goes back to the caller
 * --exit-on-stdin-eof exit when standard input closes (the parent died)
 * </pre>
 *
 * Prints exactly one line "READY dubbo=PORT[ tri=PORT]" on stdout once every service is exported
 * and the ports accept connections, then blocks until killed. Logs go to stderr.
 */
public final class ProviderMain {
    private ProviderMain() {}

    private static final class Options {
        int dubboPort = -1;
        int triPort = -1;
        String app = "tianlu-interop";
        String name;
        String registry = "N/A";
        String registerMode;
        String metadataType;
        String metadataProtocol;
        Integer weight;
        long slowMs;
        int threads = 200;
        int queues = 10000;
        boolean rawExceptions;
        boolean exitOnStdinEof;
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: ProviderMain --dubbo-port N [--tri-port N] [--app NAME] [--name NAME]"
                    + " [--registry URL] [--register-mode interface|instance|all] [--metadata-type local|remote]"
                    + " [--metadata-protocol dubbo|tri]"
                    + " [--weight N] [--slow-ms N] [--threads N] [--queues N]"
                    + " [--generic-exception wrapped|raw] [--exit-on-stdin-eof]");
            System.exit(2);
            return;
        }

        // Deterministic behaviour whatever the machine: UTC dates, no QoS port, quiet logs.
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        System.setProperty("dubbo.application.logger", "slf4j");
        System.setProperty("dubbo.application.qos-enable", "false");
        // Dubbo never registers a 127.x address it picked itself (NetUtils.isInvalidLocalHost) and
        // refuses one in DUBBO_IP_TO_REGISTRY; with every network interface ignored its address
        // lookup falls back to 127.0.0.1, so registries see the loopback address tests can reach.
        if (System.getProperty("dubbo.network.interface.ignored") == null) {
            System.setProperty("dubbo.network.interface.ignored", ".*");
        }
        if (o.rawExceptions) {
            System.setProperty("dubbo.compact.enable", "false");
        }
        if (o.exitOnStdinEof) {
            watchStdin();
        }

        ApplicationConfig application = new ApplicationConfig(o.app);
        application.setQosEnable(false);
        application.setQosAcceptForeignIp(false);
        application.setLogger("slf4j");
        if (o.registerMode != null) {
            application.setRegisterMode(o.registerMode);
        }
        if (o.metadataType != null) {
            application.setMetadataType(o.metadataType);
        }
        if (o.metadataProtocol != null) {
            application.setMetadataServiceProtocol(o.metadataProtocol);
        }

        List<ProtocolConfig> protocols = new ArrayList<>();
        ProtocolConfig dubbo = new ProtocolConfig("dubbo", o.dubboPort);
        dubbo.setHost("127.0.0.1");
        protocols.add(dubbo);
        ProtocolConfig tri = null;
        if (o.triPort > 0) {
            tri = new ProtocolConfig("tri", o.triPort);
            tri.setHost("127.0.0.1");
            protocols.add(tri);
        }

        ProviderConfig provider = new ProviderConfig();
        provider.setThreads(o.threads);
        provider.setQueues(o.queues);
        if (o.weight != null) {
            provider.setWeight(o.weight);
        }

        String instance = o.name != null ? o.name : o.app;

        ServiceConfig<TypesService> types = new ServiceConfig<>();
        types.setInterface(TypesService.class);
        types.setRef(new TypesServiceImpl());

        ServiceConfig<UserService> users = new ServiceConfig<>();
        users.setInterface(UserService.class);
        users.setRef(new UserServiceImpl(instance, o.slowMs));
        users.setVersion("1.0.0");

        ServiceConfig<UserService> usersG2 = new ServiceConfig<>();
        usersG2.setInterface(UserService.class);
        usersG2.setRef(new UserServiceImpl(instance + "@g2", o.slowMs));
        usersG2.setVersion("1.0.0");
        usersG2.setGroup("g2");

        ServiceConfig<ContextService> context = new ServiceConfig<>();
        context.setInterface(ContextService.class);
        context.setRef(new ContextServiceImpl());

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(application)
                .registry(new RegistryConfig(o.registry))
                .protocols(protocols)
                .provider(provider)
                .service(types)
                .service(users)
                .service(usersG2)
                .service(context);
        if (tri != null) {
            // The protobuf IDL service: plain protobuf over Triple, so exported on tri only.
            ServiceConfig<CatalogService> catalog = new ServiceConfig<>();
            catalog.setInterface(CatalogService.class);
            catalog.setRef(new CatalogServiceImpl());
            catalog.setProtocols(List.of(tri));
            bootstrap.service(catalog);
        }
        bootstrap.start();

        awaitListening(o.dubboPort);
        StringBuilder ready = new StringBuilder("READY dubbo=").append(o.dubboPort);
        if (o.triPort > 0) {
            awaitListening(o.triPort);
            ready.append(" tri=").append(o.triPort);
        }
        System.out.println(ready);
        System.out.flush();

        new CountDownLatch(1).await();
    }

    private static final Set<String> VALUE_FLAGS = Set.of("--dubbo-port", "--tri-port", "--app", "--name",
            "--registry", "--register-mode", "--metadata-type", "--metadata-protocol", "--weight",
            "--slow-ms", "--threads", "--queues", "--generic-exception");

    private static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--exit-on-stdin-eof":
                    o.exitOnStdinEof = true;
                    continue;
                default:
                    break;
            }
            if (!VALUE_FLAGS.contains(a)) {
                throw new IllegalArgumentException("unknown argument " + a);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--dubbo-port":
                    o.dubboPort = port(a, v);
                    break;
                case "--tri-port":
                    o.triPort = port(a, v);
                    break;
                case "--app":
                    o.app = v;
                    break;
                case "--name":
                    o.name = v;
                    break;
                case "--registry":
                    o.registry = v;
                    break;
                case "--register-mode":
                    if (!v.equals("interface") && !v.equals("instance") && !v.equals("all")) {
                        throw new IllegalArgumentException("--register-mode must be interface, instance or all");
                    }
                    o.registerMode = v;
                    break;
                case "--metadata-type":
                    if (!v.equals("local") && !v.equals("remote")) {
                        throw new IllegalArgumentException("--metadata-type must be local or remote");
                    }
                    o.metadataType = v;
                    break;
                case "--metadata-protocol":
                    if (!v.equals("dubbo") && !v.equals("tri")) {
                        throw new IllegalArgumentException("--metadata-protocol must be dubbo or tri");
                    }
                    o.metadataProtocol = v;
                    break;
                case "--weight":
                    o.weight = (int) number(a, v);
                    break;
                case "--slow-ms":
                    o.slowMs = number(a, v);
                    break;
                case "--threads":
                    o.threads = (int) number(a, v);
                    break;
                case "--queues":
                    o.queues = (int) number(a, v);
                    break;
                case "--generic-exception":
                    if (!v.equals("wrapped") && !v.equals("raw")) {
                        throw new IllegalArgumentException("--generic-exception must be wrapped or raw");
                    }
                    o.rawExceptions = v.equals("raw");
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (o.dubboPort <= 0) {
            throw new IllegalArgumentException("--dubbo-port is required");
        }
        return o;
    }

    private static int port(String flag, String v) {
        long p = number(flag, v);
        if (p <= 0 || p > 65535) {
            throw new IllegalArgumentException(flag + " must be a port number, got " + v);
        }
        return (int) p;
    }

    private static long number(String flag, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a number, got " + v);
        }
    }

    /** Connects once to prove the server socket is bound before announcing READY. */
    private static void awaitListening(int port) throws InterruptedException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("port " + port + " never accepted a connection");
    }

    /** Halts the JVM when stdin reaches EOF, so a provider never outlives its parent process. */
    private static void watchStdin() {
        Thread t = new Thread(() -> {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            try {
                while (in.read(buf) >= 0) {
                    // discard
                }
            } catch (IOException ignored) {
                // treat as EOF
            }
            Runtime.getRuntime().halt(0);
        }, "stdin-watch");
        t.setDaemon(true);
        t.start();
    }
}
