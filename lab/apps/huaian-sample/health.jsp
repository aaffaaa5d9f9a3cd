<%@ page contentType="application/json;charset=UTF-8" session="false"
         import="java.sql.*,javax.naming.InitialContext,javax.sql.DataSource" %><%--
  Health: one database round trip through the pool (upsert this node's row, read it back).
  200 {"status":"UP",...} when the database answered; 503 {"status":"DOWN",...} otherwise.
--%><%!
  static String js(Object o) {
      String s = String.valueOf(o);
      StringBuilder b = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
          if (c == '"' || c == '\\') b.append('\\').append(c);
          else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
      return b.append('"').toString();
  }
%><%
  String node = java.net.InetAddress.getLocalHost().getHostName();
  String version = System.getProperty("bes.version", "unknown");
  long t0 = System.nanoTime();
  try {
      DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/jdbc/huaian");
      try (Connection c = ds.getConnection()) {
          try (Statement s = c.createStatement()) {
              s.execute("create table if not exists bes_health_probe (node varchar(128) primary key, "
                      + "seen_at timestamp not null, hits bigint not null)");
          } catch (SQLException raced) {
              // Two nodes creating the table at once: the other one won.
          }
          long hits;
          String dbHost;
          try (PreparedStatement p = c.prepareStatement(
                  "insert into bes_health_probe (node, seen_at, hits) values (?, current_timestamp, 1) "
                  + "on conflict (node) do update set seen_at = current_timestamp, hits = bes_health_probe.hits + 1 "
                  + "returning hits, coalesce(host(inet_server_addr()), 'local')")) {
              p.setString(1, node);
              try (ResultSet r = p.executeQuery()) { r.next(); hits = r.getLong(1); dbHost = r.getString(2); }
          }
          long ms = (System.nanoTime() - t0) / 1000000;
          out.print("{\"status\":\"UP\",\"db\":\"ok\",\"node\":" + js(node) + ",\"server_version\":" + js(version)
                  + ",\"db_server\":" + js(dbHost) + ",\"hits\":" + hits + ",\"elapsed_ms\":" + ms + "}");
      }
  } catch (Exception e) {
      response.setStatus(503);
      out.print("{\"status\":\"DOWN\",\"db\":\"error\",\"node\":" + js(node) + ",\"server_version\":" + js(version)
              + ",\"error\":" + js(e.getClass().getSimpleName() + ": " + e.getMessage()) + "}");
  }
%>
