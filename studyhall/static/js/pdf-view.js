// Draws a material's PDF in the page with the vendored pdf.js (legacy build, for older
// phone browsers). Loaded only by pages that show a PDF (study/_material_body.html).
// Pages are drawn to the width of the column, sharp on high-density screens, and only
// when they come near the screen, so a long document does not block a phone.
import * as pdfjsLib from "../vendor/pdfjs/pdf.min.mjs";

const MARGIN = "600px";

function pageLabel(box, n, total) {
  return box.dataset.pageLabel.replace("{n}", n).replace("{total}", total);
}

async function drawPage(pdf, number, holder) {
  const page = await pdf.getPage(number);
  const width = holder.clientWidth || 320;
  const base = page.getViewport({ scale: 1 });
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: (width / base.width) * ratio });
  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", holder.dataset.label);
  holder.replaceChildren(canvas);
  await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
  holder.classList.add("drawn");
}

async function show(box) {
  pdfjsLib.GlobalWorkerOptions.workerSrc = box.dataset.worker;
  const pdf = await pdfjsLib.getDocument({
    url: box.dataset.pdf,
    cMapUrl: box.dataset.cmaps,
    cMapPacked: true,
    standardFontDataUrl: box.dataset.fonts,
    isEvalSupported: false,
  }).promise;
  const first = await pdf.getPage(1);
  const shape = first.getViewport({ scale: 1 });
  box.replaceChildren();
  const holders = [];
  for (let n = 1; n <= pdf.numPages; n += 1) {
    const holder = document.createElement("div");
    holder.className = "pdf-page";
    holder.dataset.page = String(n);
    holder.dataset.label = pageLabel(box, n, pdf.numPages);
    // Reserve the page's height so the text does not jump as pages are drawn.
    holder.style.aspectRatio = `${shape.width} / ${shape.height}`;
    const label = document.createElement("p");
    label.className = "pdf-page-label";
    label.textContent = holder.dataset.label;
    box.append(holder, label);
    holders.push(holder);
  }
  const draw = (holder) => {
    if (holder.dataset.started) { return; }
    holder.dataset.started = "1";
    drawPage(pdf, Number(holder.dataset.page), holder).catch(() => {
      holder.textContent = box.dataset.error;
    });
  };
  if ("IntersectionObserver" in window) {
    const watcher = new IntersectionObserver((entries) => {
      entries.forEach((entry) => {
        if (entry.isIntersecting) { watcher.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: MARGIN });
    holders.forEach((holder) => watcher.observe(holder));
  } else {
    holders.forEach(draw);
  }
  box.dataset.pages = String(pdf.numPages);
}

document.querySelectorAll(".pdf-view[data-pdf]").forEach((box) => {
  show(box).catch(() => {
    const note = document.createElement("p");
    note.className = "flash error";
    note.textContent = box.dataset.error;
    box.replaceChildren(note);
  });
});
