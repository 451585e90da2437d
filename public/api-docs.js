// Starts the self-hosted Swagger UI on Ningyu's OpenAPI document.
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui" });
});
