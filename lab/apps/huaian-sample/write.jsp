<%@ page contentType="application/json;charset=UTF-8" session="false"
         import="java.sql.*,javax.naming.InitialContext,javax.sql.DataSource" %><%--
  Write one row for a load generator: write.jsp?key=<client key>. Answers 200 only after the commit,
  so every acknowledged key must be in the table afterwards; 503 when the write failed.
--%><%
  String key = request.getParameter("key");
  if (key == null || key.isEmpty() || key.length() > 128) {
      response.setStatus(400);
      out.print("{\"status\":\"BAD\",\"error\":\"key required (1-128 characters)\"}");
      return;
  }
  String node = java.net.InetAddress.getLocalHost().getHostName();
  try {
      DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/jdbc/huaian");
      try (Connection c = ds.getConnection()) {
          try (Statement s = c.createStatement()) {
              s.execute("create table if not exists bes_load_rows (k varchar(128) primary key, "
                      + "node varchar(128) not null, written_at timestamp not null)");
          } catch (SQLException raced) {
              // created concurrently by another request
          }
          try (PreparedStatement p = c.prepareStatement(
                  "insert into bes_load_rows (k, node, written_at) values (?, ?, current_timestamp) on conflict (k) do nothing")) {
              p.setString(1, key);
              p.setString(2, node);
              p.executeUpdate();
          }
      }
      out.print("{\"status\":\"OK\",\"key\":\"" + key.replace("\"", "") + "\"}");
  } catch (Exception e) {
      response.setStatus(503);
      out.print("{\"status\":\"FAILED\"}");
  }
%>
