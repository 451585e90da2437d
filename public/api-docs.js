// Starts the self-hosted Swagger UI on Ningyu's OpenAPI document.
// validatorUrl: null keeps Swagger UI from sending the document to its
// default online validator: every request stays on this server.
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", validatorUrl: null });
});
