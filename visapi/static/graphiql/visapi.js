// The VisAPI GraphiQL page's own script (a file, not inline: see index.html).
(function () {
  // Same path as this page, sent as POST with a JSON body.
  var url = window.location.pathname;
  var http = GraphiQL.createFetcher({ url: url });

  // The operation GraphiQL runs is a subscription: its own keyword, or the document's only
  // operation is one (comments and strings aside, a rough but safe test: a query sent over SSE
  // is answered once, then the stream completes).
  function isSubscription(params) {
    var text = (params.query || "").replace(/#[^\n]*/g, "").replace(/"(?:\\.|[^"\\])*"/g, '""');
    if (params.operationName) {
      return new RegExp("\\bsubscription\\s+" + params.operationName + "\\b").test(text);
    }
    return /^\s*subscription\b/.test(text);
  }

  // Subscriptions go over Server-Sent Events (POST with Accept: text/event-stream), with the
  // headers of the Headers tab; each `next` event is one result for GraphiQL to show.
  async function* overSse(params, headers) {
    var response = await fetch(url, {
      method: "POST",
      headers: Object.assign({}, headers || {}, {
        "Content-Type": "application/json",
        Accept: "text/event-stream",
      }),
      body: JSON.stringify(params),
    });
    var type = response.headers.get("content-type") || "";
    if (type.indexOf("text/event-stream") !== 0) {
      yield await response.json();
      return;
    }
    var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffer += chunk.value.replace(/\r\n/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        var event = "", data = "";
        block.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) event = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
        });
        if (event === "complete") return;
        if (event === "next" && data) yield JSON.parse(data);
      }
    }
  }

  function fetcher(params, options) {
    if (isSubscription(params)) return overSse(params, options && options.headers);
    return http(params, options);
  }

  var defaultQuery = [
    "# Welcome to VisAPI GraphiQL.",
    "#",
    "# Run a query with Ctrl-Enter.",
    "# Headers (e.g. Authorization) go in",
    "# the Headers tab below; the schema",
    "# is in the Docs panel.",
    "",
    "query {",
    "  __typename",
    "}",
    "",
  ].join("\n");

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      defaultEditorToolsVisibility: true,
    })
  );
})();
