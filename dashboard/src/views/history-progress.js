// The job's line under the range: a progress bar and what the job is doing, in words.
const $ = (id) => document.getElementById(id);

export function jobProgress() {
  const area = $("job");
  const bar = $("progress");
  const status = $("job-status");

  function set(fraction, text) {
    const percent = Math.round(fraction * 100);
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = `${percent}%`;
    status.textContent = text;
  }

  function say(text) {
    status.textContent = text;
  }

  // The bar as shown, for a status that leaves it where it is.
  function fraction() {
    return Number(bar.getAttribute("aria-valuenow")) / 100;
  }

  function open() {
    area.hidden = false;
  }

  function close() {
    area.hidden = true;
  }

  return { open, close, set, say, fraction };
}
