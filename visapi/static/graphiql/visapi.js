// The VisAPI GraphiQL page's own script (a file, not inline: see index.html).
(function () {
  // Same path as this page, sent as POST with a JSON body.
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
  });

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
