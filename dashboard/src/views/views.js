// The header's Stations / Operations tabs: which of the two the page shows. Only
// users with the operator role get the tabs; everyone else sees the stations.
const $ = (id) => document.getElementById(id);

export function viewsView({ onChange }) {
  const nav = $("views");
  const tabs = { stations: $("view-stations"), operations: $("view-operations") };
  const panes = { stations: $("app"), operations: $("operations") };
  let view = "stations";

  for (const [name, tab] of Object.entries(tabs)) tab.addEventListener("click", () => set(name));
  nav.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = view === "stations" ? "operations" : "stations";
    set(next);
    tabs[next].focus();
  });

  function allow(operator) {
    nav.hidden = !operator;
  }

  function set(next) {
    if (view === next) return;
    view = next;
    for (const [name, tab] of Object.entries(tabs)) {
      tab.setAttribute("aria-selected", String(name === view));
      panes[name].hidden = name !== view;
    }
    onChange(view);
  }

  return { allow };
}
