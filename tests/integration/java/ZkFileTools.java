/*
 * Runs Apache ZooKeeper 3.8's own inspection tools over many data-directory
 * files in one JVM (a JVM start costs about a second here), for
 * test_datadir_compat.py. Launched as a single-file source program:
 *
 *   java -cp /usr/share/java/zookeeper.jar:<slf4j binding> ZkFileTools.java \
 *        log:<path> snap:<path> snapd:<path> ...
 *
 *   log:<path>    org.apache.zookeeper.server.persistence.TxnLogToolkit <path>
 *                 (zkTxnLogToolkit.sh: dump mode, checks every record's Adler-32)
 *   snap:<path>   org.apache.zookeeper.server.SnapshotFormatter <path>
 *   snapd:<path>  org.apache.zookeeper.server.SnapshotFormatter -d <path> (data too)
 *
 * For each argument it prints
 *
 *   ==== BEGIN <arg>
 *   <everything the tool wrote to stdout and stderr>
 *   ==== END <arg> OK|EXCEPTION
 *
 * with the stack trace of anything the tool threw before EXCEPTION. A tool
 * that calls System.exit (what they do on a bad file) ends the JVM early:
 * the caller sees a non-zero exit status and a missing END line.
 */
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

public class ZkFileTools {
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        for (String arg : args) {
            int colon = arg.indexOf(':');
            String kind = arg.substring(0, colon);
            String path = arg.substring(colon + 1);
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
            String status = "OK";
            out.println("==== BEGIN " + arg);
            out.flush();
            System.setOut(capture);
            System.setErr(capture);
            try {
                switch (kind) {
                case "log":
                    org.apache.zookeeper.server.persistence.TxnLogToolkit.main(new String[] {path});
                    break;
                case "snap":
                    org.apache.zookeeper.server.SnapshotFormatter.main(new String[] {path});
                    break;
                case "snapd":
                    org.apache.zookeeper.server.SnapshotFormatter.main(new String[] {"-d", path});
                    break;
                default:
                    throw new IllegalArgumentException("unknown kind " + kind);
                }
            } catch (Throwable t) {
                t.printStackTrace(capture);
                status = "EXCEPTION";
            } finally {
                capture.flush();
                System.setOut(out);
                System.setErr(err);
            }
            out.write(buf.toByteArray());
            out.println("==== END " + arg + " " + status);
            out.flush();
        }
    }
}
