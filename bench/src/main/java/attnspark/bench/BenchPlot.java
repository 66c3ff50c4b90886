package attnspark.bench;

import attnspark.bench.BenchReport.ConfigResult;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.text.DecimalFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * bench.png: left, tokens/s against batch size in tokens for both engines (attnspark at each
 * batch token budget; ONNX Runtime at the mean padded tokens of its fixed-size batches); right,
 * the best of each in process and the CLI job, as bars.
 */
final class BenchPlot {
    static final int WIDTH = 1200, HEIGHT = 450;
    private static final Color ATTNSPARK = new Color(0xD9, 0x5F, 0x02),
            ONNX = new Color(0x1B, 0x9E, 0x77),
            JOB = new Color(0x75, 0x70, 0xB3);

    private BenchPlot() {}

    static void write(BenchReport r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int left = WIDTH * 3 / 5;
        sweep(r).draw(g, new Rectangle2D.Double(0, 0, left, HEIGHT));
        bars(r).draw(g, new Rectangle2D.Double(left, 0, WIDTH - left, HEIGHT));
        g.dispose();
        Path staging = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(img, "png", staging.toFile())) throw new IOException("no PNG writer in this JVM");
        Files.move(staging, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static JFreeChart sweep(BenchReport r) {
        long tokens = r.corpus().tokens();
        Map<String, XYSeries> series = new LinkedHashMap<>();
        XYSeries ort =
                new XYSeries("ONNX Runtime " + r.machine().onnxruntime() + " (x: padded tokens of 1/8/32/... texts)");
        for (ConfigResult c : r.configs()) {
            if (c.engine().equals(BenchReport.ONNXRUNTIME)) {
                ort.add(c.meanBatchTokens(), c.tokensPerSecond(tokens));
            } else {
                series.computeIfAbsent(c.attn(), a -> new XYSeries("attnspark " + a + " (x: batch token budget)"))
                        .add(c.batchTokens(), c.tokensPerSecond(tokens));
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        data.addSeries(ort);
        String title = String.format(
                Locale.ROOT,
                "%,d texts of %.0f tokens on average, %d cores, medians of %d rounds",
                r.corpus().texts(),
                r.corpus().meanTokens(),
                r.machine().cores(),
                r.rounds());
        JFreeChart chart = ChartFactory.createXYLineChart(
                title, "tokens per batch", "tokens/s (median)", data, PlotOrientation.VERTICAL, true, false, false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("tokens per batch (log scale)");
        x.setBase(2);
        x.setSmallestValue(1);
        x.setTickUnit(new NumberTickUnit(1)); // one tick per power of two
        x.setNumberFormatOverride(new DecimalFormat("#,##0"));
        plot.setDomainAxis(x);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
        for (int s = 0; s < data.getSeriesCount(); s++) {
            lines.setSeriesPaint(s, s == data.getSeriesCount() - 1 ? ONNX : s == 0 ? ATTNSPARK : ATTNSPARK.darker());
        }
        plot.setRenderer(lines);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (ConfigResult c : r.configs()) {
            if (!c.engine().equals(BenchReport.ONNXRUNTIME)) continue;
            XYTextAnnotation a = new XYTextAnnotation(
                    c.batchSize() + " text" + (c.batchSize() == 1 ? "" : "s"),
                    c.meanBatchTokens(),
                    c.tokensPerSecond(tokens));
            a.setTextAnchor(TextAnchor.BOTTOM_CENTER);
            a.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
            plot.addAnnotation(a);
        }
        return chart;
    }

    private static JFreeChart bars(BenchReport r) {
        long tokens = r.corpus().tokens();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        ConfigResult ort = r.best(BenchReport.ONNXRUNTIME), best = r.best(BenchReport.ATTNSPARK);
        data.addValue(ort.tokensPerSecond(tokens), "ONNX Runtime best (" + ort.batchSize() + " texts/batch)", "");
        data.addValue(
                best.tokensPerSecond(tokens),
                "attnspark best (" + best.attn() + ", budget " + best.batchTokens() + ")",
                "");
        if (r.job() != null) {
            ConfigResult peer = r.inProcessPeerOfJob();
            if (peer != best)
                data.addValue(
                        peer.tokensPerSecond(tokens),
                        "attnspark in process at the job's budget " + peer.batchTokens(),
                        "");
            data.addValue(
                    r.job().tokensPerSecond(),
                    String.format(
                            Locale.ROOT,
                            "attnspark CLI job, local[*] (%.0f%% of in process)",
                            100 * r.job().tokensPerSecond() / peer.tokensPerSecond(tokens)),
                    "");
        }
        JFreeChart chart = ChartFactory.createBarChart(
                String.format(Locale.ROOT, "attnspark / ONNX Runtime = %.2f", r.ratio()),
                null,
                "tokens/s (median)",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setItemMargin(0.1);
        Color[] colors = r.job() == null
                ? new Color[] {ONNX, ATTNSPARK}
                : data.getRowCount() == 4
                        ? new Color[] {ONNX, ATTNSPARK, ATTNSPARK.brighter(), JOB}
                        : new Color[] {ONNX, ATTNSPARK, JOB};
        for (int i = 0; i < colors.length; i++) bars.setSeriesPaint(i, colors[i]);
        return chart;
    }
}
