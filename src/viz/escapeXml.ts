const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * Text safe in XML and HTML element content and quoted attribute values. Control characters XML 1.0
 * forbids are dropped, so any string (a state name, an error message) yields well-formed output.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/(?![\t\n\r])\p{Cc}|[\ufffe\uffff]/gu, "")
    .replace(/[&<>"']/g, (char) => XML_ENTITIES[char] ?? char);
}
