// The Live / History tabs: which of the two the work area shows.
const $ = (id) => document.getElementById(id);

export function modesView({ onChange }) {
  const tabs = { live: $("mode-live"), history: $("mode-history") };
  let mode = "live";

  for (const [name, tab] of Object.entries(tabs)) tab.addEventListener("click", () => set(name));
  // Arrow keys move between the tabs, as a tablist's do.
  tabs.live.parentElement.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    const next = mode === "live" ? "history" : "live";
    set(next);
    tabs[next].focus();
  });

  function set(next) {
    if (mode === next) return;
    mode = next;
    for (const [name, tab] of Object.entries(tabs)) {
      tab.setAttribute("aria-selected", String(name === mode));
    }
    onChange(mode);
  }

  return { current: () => mode };
}
