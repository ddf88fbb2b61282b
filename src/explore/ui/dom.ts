/**
 * The one way the page builds DOM: elements with attributes and children, text always through
 * textContent (a class name, file name or column name from the results is never parsed as markup).
 */
export type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A number as shown in the table: 4 significant digits, exponent for very small or large ones. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** A `<select>` of (value, text) options. */
export function select(
  id: string,
  options: readonly (readonly [string, string])[],
  onChange: (value: string) => void,
): HTMLSelectElement {
  const node = el("select", { id });
  for (const [value, text] of options) node.appendChild(el("option", { value }, text));
  node.addEventListener("change", () => {
    onChange(node.value);
    // Back to the page, so the review keys act on the samples rather than on this list.
    node.blur();
  });
  return node;
}
